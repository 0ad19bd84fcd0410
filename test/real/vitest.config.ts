import { defineConfig } from 'vitest/config';

/**
 * `npm run test:real`: the contract suites and the real-network tests against the atproto reference
 * stack (test/real/stack), started once for the run by the global setup and stopped after it.
 * One file at a time: they share one PDS and its per-IP rate limit.
 */
export default defineConfig({
  test: {
    include: [
      'test/real/**/*.test.ts',
      'test/integration/platform-observe.test.ts',
      'test/integration/platform-act.test.ts',
    ],
    environment: 'node',
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/real/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', FOLLOWBACK_TARGET: 'real' },
  },
});
