/** A worker thread of sim/main.ts: runs the seeds it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { runSeed } from './seed.ts';

parentPort?.on('message', async (seed: number) => {
  try {
    parentPort?.postMessage({ result: await runSeed(seed) });
  } catch (error) {
    parentPort?.postMessage({
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
});
