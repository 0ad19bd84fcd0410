/**
 * `npm run bench -- [name...] [--json]`: runs the named benchmarks (all but `mutation` when none is named). Each
 * prints its own table; with --json the figures of every bench run are also printed, merged, as ONE
 * JSON object on the last line of stdout. Figures are printed, never asserted.
 *
 * Adding a bench is one line in `benches`: a module exporting `run(options): Promise<BenchFigures>`.
 */
import { Command, CommanderError } from 'commander';
import { defined } from '../shared/domain/invariant.ts';
import type { BenchFigures, BenchModule } from './support/bench.ts';

const benches: Record<string, () => Promise<BenchModule>> = {
  observe: () => import('./observe.ts'),
  'observe-hard': async () => (await import('./observe.ts')).hard,
  'observe-order': async () => (await import('./observe.ts')).order,
  'observe-feed': async () => (await import('./observe.ts')).feeds,
  lambda: () => import('./lambda.ts'),
  cost: () => import('./cost.ts'),
  act: () => import('./act.ts'),
  snapshot: async () => (await import('./observe.ts')).snapshot,
  'string-ids': () => import('./string-ids.ts'),
  mutation: () => import('./mutation.ts'),
};

/** Run only when named: StrykerJS over the domain takes long (`npm run mutation`). */
const onlyWhenNamed = new Set(['mutation']);

interface MainOptions {
  json: boolean;
  explain: boolean;
}

async function runBenches(names: string[], options: MainOptions): Promise<void> {
  const unknown = names.filter((name) => !Object.hasOwn(benches, name));
  if (unknown.length > 0) {
    throw new CommanderError(
      2,
      'bench.unknown',
      `unknown bench ${unknown.map((name) => JSON.stringify(name)).join(', ')}; known: ${Object.keys(benches).join(', ')}`,
    );
  }
  const selected =
    names.length > 0 ? [...new Set(names)] : Object.keys(benches).filter((name) => !onlyWhenNamed.has(name));
  const figures: BenchFigures = {};
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  for (const name of selected) {
    const started = performance.now();
    out(`== bench ${name} ==`);
    const module = await defined(benches[name], `bench ${name} (checked above)`)();
    Object.assign(figures, await module.run({ out, progress, explain: options.explain }));
    out(`(bench ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    out('');
  }
  if (options.json) out(JSON.stringify(figures));
}

const program = new Command()
  .name('npm run bench --')
  .description('Benchmarks of followback: figures printed, never asserted.')
  .argument(
    '[name...]',
    `benches to run (default: all but ${[...onlyWhenNamed].join(', ')}): ${Object.keys(benches).join(', ')}`,
  )
  .option('--json', 'also print the figures as one JSON object on the last line of stdout', false)
  .option(
    '--explain',
    'also print what the figures are made of (lambda: the biggest parts of each bundle)',
    false,
  )
  .exitOverride()
  .action(runBenches);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.exitCode !== 0 && error.code === 'bench.unknown')
      process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
