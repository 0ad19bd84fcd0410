/**
 * StrykerJS on the pure domain, with the vitest runner over the unit project
 * (vitest.mutation.config.ts). Run through `npm run mutation` (bench/mutation.ts), which prints the
 * score; not part of `npm test`. functions/lib/sqs-batch.ts is mutated too: issue 14 found a mutant
 * of it (resending entries SQS refused as the sender's fault) that its tests let live.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant) reruns every test on a fresh import: on two cores that
  // is most of the run's time, so they are left out (the score counts the others).
  ignoreStatic: true,
  mutate: ['shared/domain/**/*.ts', 'functions/lib/sqs-batch.ts'],
  ignorePatterns: ['.followback', 'cdk.out', 'test/real/stack', 'docs'],
  // Two cores: more processes only queue.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['json', 'clear-text'],
  jsonReporter: { fileName: '.followback/mutation/mutation.json' },
  clearTextReporter: { reportScoreTable: true, reportMutants: false },
  tempDirName: '.followback/stryker-tmp',
  cleanTempDir: 'always',
};
