/**
 * The approval links' signing key on one machine: `<dir>/approval.key` (base64 of 32 random
 * bytes), generated once with mode 0600 and read back on every later run, so links in an earlier
 * digest keep working. `APPROVAL_SIGNING_KEY`, when set, wins (see shared/app/approval/keys.ts).
 * The key is never printed or logged.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatApprovalKey, parseApprovalKeys } from '../app/approval/keys.ts';

export const APPROVAL_KEY_FILE = 'approval.key';

export async function loadLocalApprovalKeys(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Uint8Array[]> {
  const fromEnv = env.APPROVAL_SIGNING_KEY;
  if (fromEnv !== undefined && fromEnv !== '') return parseApprovalKeys(fromEnv);
  const file = join(dir, APPROVAL_KEY_FILE);
  await mkdir(dir, { recursive: true });
  try {
    // 'wx': create only if absent, so two processes starting at once cannot write two keys.
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${formatApprovalKey(randomBytes(32))}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Tighten a key file someone made readable to others.
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  return parseApprovalKeys((await readFile(file, 'utf8')).trim(), file);
}
