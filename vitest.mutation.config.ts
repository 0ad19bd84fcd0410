import { defineConfig } from 'vitest/config';
import { unit } from './vitest.config.ts';

/**
 * The tests StrykerJS runs against each mutant (stryker.config.json, `npm run mutation`): the unit
 * project alone, in process, so a mutant's run takes a fraction of a second. Stryker sets the pool
 * (threads, one worker per Stryker process) itself.
 */
export default defineConfig({
  test: {
    include: unit,
    setupFiles: ['test/support/unit-guard.ts'],
    environment: 'node',
    // As the unit project: nothing to isolate from, and each mutant's run skips re-importing.
    isolate: false,
    // Instrumented code runs several times slower: the schedule's property tests need the room.
    testTimeout: 180_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
