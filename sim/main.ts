/**
 * `npm run sim -- --seeds 1-1000 [--json] [--workers 2]`: seeded simulated days of the real engine on
 * in-process fakes (sim/seed.ts), spread over worker threads. Prints each violation with its seed
 * and a one-line story; `--seeds N` replays one seed alone, identically. With `--json` the last line
 * of stdout is one JSON object: seeds, violations, violations_by_invariant, wall_s, seeds_per_s.
 */

import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Command } from 'commander';
import { defined } from '../shared/domain/invariant.ts';
import type { SeedResult } from './seed.ts';

export function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  for (const part of spec.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`--seeds: not a seed or a range: ${JSON.stringify(part)}`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new Error(`--seeds: empty range ${part}`);
    for (let seed = from; seed <= to; seed += 1) seeds.push(seed);
  }
  return seeds;
}

/** Runs the seeds on `workers` threads; results come back in seed order. */
export async function runSeeds(
  seeds: readonly number[],
  workers: number,
  onResult?: (result: SeedResult) => void,
): Promise<SeedResult[]> {
  const results = new Map<number, SeedResult>();
  const queue = [...seeds];
  const count = Math.max(1, Math.min(workers, queue.length));
  await Promise.all(
    Array.from({ length: count }, async () => {
      const worker = new Worker(new URL('./worker.mjs', import.meta.url));
      try {
        for (;;) {
          const seed = queue.shift();
          if (seed === undefined) break;
          const result = await new Promise<SeedResult>((resolve, reject) => {
            const onMessage = (message: { result?: SeedResult; error?: string }) => {
              worker.off('error', reject);
              if (message.error !== undefined) reject(new Error(`seed ${seed}: ${message.error}`));
              else resolve(defined(message.result, `the result of seed ${seed}`));
            };
            worker.once('message', onMessage);
            worker.once('error', reject);
            worker.postMessage(seed);
          });
          results.set(seed, result);
          onResult?.(result);
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  return seeds.map((seed) => defined(results.get(seed), `the result of seed ${seed}`));
}

async function main(): Promise<void> {
  const program = new Command()
    .name('sim')
    .option('--seeds <spec>', 'seeds: N, A-B or a comma list', '1-100')
    .option('--json', 'end with one JSON summary line')
    .option('--workers <n>', 'worker threads', String(Math.min(2, availableParallelism())))
    .parse();
  const options = program.opts<{ seeds: string; json?: boolean; workers: string }>();
  const seeds = parseSeeds(options.seeds);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const byInvariant: Record<string, number> = {};
  const failing = new Set<number>();
  let violations = 0;
  await runSeeds(seeds, Number(options.workers), (result) => {
    for (const violation of result.violations) {
      violations += 1;
      failing.add(violation.seed);
      byInvariant[violation.invariant] = (byInvariant[violation.invariant] ?? 0) + 1;
      console.log(
        `seed ${violation.seed} [${result.variant}] invariant ${violation.invariant}: ${violation.story}`,
      );
    }
  });
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const summary = {
    seeds: seeds.length,
    violations,
    failing_seeds: failing.size,
    violations_by_invariant: byInvariant,
    wall_s: Number(wall.toFixed(2)),
    seeds_per_s: Number((seeds.length / wall).toFixed(2)),
    /** CPU of the process and its worker threads: what the run costs on an idle machine. */
    cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
  };
  if (options.json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `${summary.seeds} seeds, ${violations} violations in ${failing.size} seeds ${JSON.stringify(byInvariant)}, ${summary.wall_s} s (${summary.seeds_per_s} seeds/s)`,
    );
  }
  process.exitCode = violations > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) await main();
