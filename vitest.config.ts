import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/real needs the atproto reference stack: npm run test:real (test/real/vitest.config.ts).
    exclude: ['**/node_modules/**', 'test/real/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own dynalite / moto / sandbox servers on loopback.
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
