import type { MailComposer } from '../../ports/mail-composer.ts';
import { buildDigestMime, buildRollupMime } from './build-digest-mime.ts';

/** The mail composition port on nodemailer's MailComposer (build-digest-mime.ts). */
export const mimeComposer: MailComposer = {
  digest: (input) => buildDigestMime(input),
  rollup: (input) => buildRollupMime(input),
};
