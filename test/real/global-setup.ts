/**
 * Global setup of `npm run test:real`: finds (or installs) the cached stack, starts PostgreSQL, Redis
 * and the Node 22 network, hands their addresses to the test files (`inject('realStack')`), and stops
 * every process it started, by id, when the run ends (also when it fails).
 */
import type { TestProject } from 'vitest/node';
import { ensureStack } from './install.ts';
import { type RealStackInfo, startStack } from './processes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    realStack: RealStackInfo;
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const install = ensureStack(log);
  log(
    `real stack: ${install.installed ? 'installed' : 'found in the cache'} in ${install.seconds.toFixed(1)} s (${install.dir})`,
  );
  const started = Date.now();
  const stack = await startStack(install, log);
  log(`real stack: up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('realStack', stack.info);
  const stop = async () => {
    await stack.stop();
    log('real stack: stopped (postgres, redis, network)');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  return stop;
}
