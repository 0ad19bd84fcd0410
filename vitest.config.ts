import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs three projects (README, "Tests and benchmarks"):
 *
 * - `unit`: in process only, fast (`npm run test:unit`). Its setup file (test/support/unit-guard.ts)
 *   fails any test that opens a socket or starts a process, so dynalite, moto, the sandboxes' HTTP
 *   servers, Chromium and the CLI cannot slip in.
 * - `integration`: every other file: dynalite, moto, the sandboxes over loopback, the simulation
 *   sample, the CDK synth and cfn-lint. A new test file lands here unless it matches `unit` or `e2e`.
 * - `e2e`: the product from outside: Chromium on the approval page and the console, and the
 *   `followback` command run as a process (its screenshots in Chromium too).
 *
 * test/real needs the atproto reference stack: npm run test:real (test/real/vitest.config.ts).
 */
export const unit = [
  'test/domain/**/*.test.ts',
  'test/adapters/**/*.test.ts',
  'test/app/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/presentation/**/*.test.ts',
  'test/web/**/*.test.ts',
  'test/sandbox/{bluesky-world,follow-list,world,world-journal}.test.ts',
  'test/functions/{console,observability,sqs-batch}.test.ts',
  'test/infra/config.test.ts',
  'test/support/unit-guard.test.ts',
];
const e2e = ['test/e2e/**/*.test.ts', 'test/runtime/chromium.test.ts', 'test/cli/**/*.test.ts'];

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', 'test/real/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own dynalite / moto / sandbox servers on loopback.
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          setupFiles: ['test/support/unit-guard.ts'],
          // Nothing to isolate from (no servers, no processes): threads that keep their imports
          // between files take the project from ~30 s to ~13 s of CPU.
          pool: 'threads',
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/real/**', ...unit, ...e2e],
        },
      },
      { extends: true, test: { name: 'e2e', include: e2e } },
    ],
    // The gate on the pure domain and the use cases: `npm test` collects it (`--coverage`) in the
    // same run, so CI pays no second run. The thresholds sit just below what a full `npm test`
    // covers (README, "Tests and benchmarks"): a change that drops coverage fails it.
    coverage: {
      provider: 'v8',
      include: ['shared/domain/**/*.ts', 'shared/app/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'shared/domain/**': { statements: 94, branches: 88, functions: 95, lines: 96 },
        'shared/app/**': { statements: 87, branches: 78, functions: 91, lines: 88 },
      },
    },
  },
});
