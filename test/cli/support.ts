import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/followback.mjs');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `followback <args>` in a child process (add `--local --dir` yourself, or use `local`). */
export async function followback(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      timeout: 60_000,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** `followback <args> --local --dir <dir>`. */
export const local = (dir: string, ...args: string[]) => followback([...args, '--local', '--dir', dir]);

/** Writes straight into the local store of `dir` (as a run or an older version might have left it). */
export async function seedLocalStore(
  dir: string,
  seed: (store: DynamoStore) => Promise<void>,
): Promise<void> {
  const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
  try {
    await seed(new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName }));
  } finally {
    await dynamo.close();
  }
}

/**
 * What a terminal, or the bidi algorithm, would act on: C0 controls but the newline, DEL, C1
 * controls (U+0080–U+009F), bidi controls, the Unicode line separators and annotation marks.
 */
export const TERMINAL_ACTIVE = /(?!\n)[\p{Cc}\p{Bidi_Control}\u2028\u2029\uFFF9-\uFFFB]/u;
