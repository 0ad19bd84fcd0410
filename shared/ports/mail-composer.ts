import type { DigestModel } from '../domain/digest/model.ts';
import type { RollupModel } from '../domain/digest/rollup.ts';

/**
 * The mail composition port: the digest and the roll-up as raw RFC 5322 messages, from their model
 * and rendered parts (adapter: adapters/mime/mime-composer.ts, nodemailer's MailComposer). A bad
 * address or URL is a ValidationError naming the field. The bytes go to a Mailer unchanged.
 */
export interface DigestMailInput {
  model: DigestModel;
  html: string;
  text: string;
  csv: string;
  to: string | readonly string[];
  /** The RFC 8058 one-click endpoint (carries an unsubscribe token). */
  unsubscribeUrl: string;
  /** Deterministic per (client, period) so a retried send is the same message. */
  messageId?: string | undefined;
  date?: Date | number | undefined;
}

export interface RollupMailInput {
  model: RollupModel;
  html: string;
  text: string;
  to: string | readonly string[];
  messageId?: string | undefined;
  date?: Date | number | undefined;
}

export interface MailComposer {
  digest(input: DigestMailInput): Promise<Uint8Array>;
  rollup(input: RollupMailInput): Promise<Uint8Array>;
}
