/**
 * `npm run mutation` (= `npm run bench -- mutation`): StrykerJS mutates the pure domain (and
 * functions/lib/sqs-batch.ts, stryker.config.mjs) and runs the unit project against every mutant.
 * Prints the mutation score per folder and overall; with --json the figures join the bench's one
 * JSON object. Not part of `npm test`: it takes long (README, "Tests and benchmarks").
 *
 * BENCH_MUTATE narrows the files (comma-separated globs, e.g. `shared/domain/text.ts`);
 * BENCH_MUTATION_CONCURRENCY sets the Stryker processes (default 2); the full report is written
 * to .followback/mutation/mutation.json.
 */
import { relative } from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import { type BenchFigures, type BenchOptions, round, show, table } from './support/bench.ts';

type MutantResult = Awaited<ReturnType<Stryker['runMutationTest']>>[number];
type StrykerOptions = NonNullable<ConstructorParameters<typeof Stryker>[0]>;

interface Tally {
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  /** Static mutants, left out by `ignoreStatic` (stryker.config.mjs): not in the score. */
  ignored: number;
}

function tally(results: readonly MutantResult[]): Tally {
  const count = (...statuses: MutantResult['status'][]) =>
    results.filter((result) => statuses.includes(result.status)).length;
  return {
    mutants: results.length - count('Ignored'),
    killed: count('Killed'),
    timeout: count('Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    errors: count('CompileError', 'RuntimeError'),
    ignored: count('Ignored'),
  };
}

/** Stryker's score: detected (killed or timed out) over detected, survived and not covered. */
function score(t: Tally): number {
  const detected = t.killed + t.timeout;
  const valid = detected + t.survived + t.noCoverage;
  return valid === 0 ? Number.NaN : (100 * detected) / valid;
}

/** The folder a file's mutants are shown under: shared/domain/engine, shared/domain, functions/lib. */
function folderOf(fileName: string): string {
  const path = relative(process.cwd(), fileName);
  return path.split('/').slice(0, -1).join('/');
}

export async function run({ out, progress }: BenchOptions): Promise<BenchFigures> {
  const mutate = process.env.BENCH_MUTATE?.split(',').filter((glob) => glob.length > 0);
  const concurrency = Number(process.env.BENCH_MUTATION_CONCURRENCY ?? 2);
  progress(
    `mutation: StrykerJS on ${mutate?.join(', ') ?? 'stryker.config.mjs mutate'} with ${concurrency} process(es)…`,
  );
  const started = performance.now();
  const stryker = new Stryker({
    ...(mutate === undefined ? {} : { mutate }),
    concurrency,
    // The table below is the report; Stryker's own progress goes to stderr.
    reporters: ['json', 'progress'],
    logLevel: 'warn' as NonNullable<StrykerOptions['logLevel']>,
  });
  const results = await stryker.runMutationTest();
  const wallS = (performance.now() - started) / 1000;

  const byFolder = new Map<string, MutantResult[]>();
  for (const result of results) {
    const folder = folderOf(result.fileName);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), result]);
  }
  const row = (name: string, t: Tally) => [
    name,
    `${show(score(t), 1)} %`,
    show(t.mutants),
    show(t.killed),
    show(t.timeout),
    show(t.survived),
    show(t.noCoverage),
    show(t.errors),
    show(t.ignored),
  ];
  const all = tally(results);
  const rows = [...byFolder.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([folder, folderResults]) => row(folder, tally(folderResults)));
  out('Mutation testing (StrykerJS, vitest runner, the unit project against each mutant)');
  for (const line of table(
    ['folder', 'score', 'mutants', 'killed', 'timeout', 'survived', 'no coverage', 'errors', 'static'],
    [...rows, row('all', all)],
  ))
    out(line);
  out(`  ${show(wallS, 0)} s; every mutant and its status: .followback/mutation/mutation.json`);

  return {
    mutation_score: round(score(all), 2),
    mutation_mutants: all.mutants,
    mutation_killed: all.killed,
    mutation_timeout: all.timeout,
    mutation_survived: all.survived,
    mutation_no_coverage: all.noCoverage,
    mutation_errors: all.errors,
    mutation_static_ignored: all.ignored,
    mutation_wall_s: round(wallS, 0),
  };
}
