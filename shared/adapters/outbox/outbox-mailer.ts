import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DeliveryCheck, MailKey, Mailer, OutgoingMail, SentMail } from '../../ports/mailer.ts';
import { MailRejectedError } from '../../ports/mailer.ts';

/**
 * The local stand-in for SES: each message becomes `<dir>/<client>/<period>-<kind>.eml` (the raw
 * message, openable by any mail program) and `.html` beside it (the HTML part, for a browser).
 * Names are deterministic, so sending the same message again writes the same files (idempotent);
 * each file is written to a temporary name and renamed, so a crash never leaves half a message.
 * The `.eml` is written last: its presence, with the message's Message-ID, is what `check` reads.
 * The messages hold live approval and unsubscribe links, so, like the vault key beside them, the
 * files are the owner's only (0600) in a folder that is too (0700).
 */
export class OutboxMailer implements Mailer {
  readonly dir: string;

  constructor(options: { dir: string }) {
    this.dir = resolve(options.dir);
  }

  /** Where a message with this key is (or would be) written. */
  pathsOf(key: MailKey): { eml: string; html: string } {
    const base = join(this.dir, safeName(key.clientId), `${safeName(key.periodKey)}-${safeName(key.kind)}`);
    return { eml: `${base}.eml`, html: `${base}.html` };
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const paths = this.pathsOf(mail.key);
    try {
      const folder = join(this.dir, safeName(mail.key.clientId));
      await mkdir(folder, { recursive: true, mode: 0o700 });
      await chmod(folder, 0o700);
      if (mail.html !== undefined) await writeAtomically(paths.html, mail.html);
      await writeAtomically(paths.eml, mail.raw);
    } catch (error) {
      // Nothing is half-written (temporary names), so the message is certainly not in the outbox.
      throw new MailRejectedError(`cannot write ${paths.eml}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
        details: { path: paths.eml },
      });
    }
    return { messageId: mail.messageId, providerId: paths.eml };
  }

  async check(mail: Pick<OutgoingMail, 'key' | 'messageId'>): Promise<DeliveryCheck> {
    const { eml } = this.pathsOf(mail.key);
    let text: string;
    try {
      text = await readFile(eml, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'not_sent';
      return 'unknown';
    }
    const header = /^Message-ID:\s*<([^>\r\n]+)>/im.exec(text.slice(0, 64 * 1024));
    return header?.[1] === mail.messageId.replace(/^<|>$/g, '') ? 'sent' : 'not_sent';
  }
}

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, data, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * A file-name part from an id: letters, digits, `.`, `_` and `-` are kept, anything else becomes `_`
 * and a short hash of the original is added, so two ids never share a name and none escapes the
 * directory.
 */
export function safeName(part: string): string {
  const cleaned = part.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (cleaned === part && cleaned !== '') return cleaned;
  const hash = createHash('sha256').update(part, 'utf8').digest('hex').slice(0, 8);
  return `${cleaned.slice(0, 80)}-${hash}`;
}
