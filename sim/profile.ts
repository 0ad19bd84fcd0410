import { runSeed } from './seed.ts';

for (const seed of process.argv.slice(2).map(Number)) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const r = await runSeed(seed);
  const used = process.cpuUsage(cpu);
  console.log(
    seed,
    r.variant,
    `${(performance.now() - t) | 0}ms wall ${((used.user + used.system) / 1000) | 0}ms cpu`,
    'ticks',
    r.ticks,
    'follows',
    r.follows,
    'viol',
    r.violations.length,
  );
  for (const v of r.violations) console.log('  ', v.invariant, v.story.slice(0, 400));
}
