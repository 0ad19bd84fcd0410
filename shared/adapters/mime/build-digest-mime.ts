/**
 * Raw RFC 5322 messages for the digest and the agency roll-up, built by nodemailer's MailComposer
 * (no hand-written MIME). SES v2 sends these bytes as a raw message; locally they are written as
 * .eml files.
 *
 * Structure: multipart/mixed [ multipart/alternative [ text/plain, text/html ], text/csv ].
 * Headers: From with the agency's name, Subject with the client's name and period,
 * `List-Unsubscribe: <https://…>, <mailto:…>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
 * (RFC 8058), `Auto-Submitted: auto-generated`.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { cleanText, safeHttpUrl } from '../../domain/digest/html.ts';
import { type DigestModel, digestSubject } from '../../domain/digest/model.ts';
import { type RollupModel, rollupSubject } from '../../domain/digest/rollup.ts';
import { ValidationError } from '../../domain/errors.ts';
import { digestCsvFilename } from '../../presentation/digest/render-csv.ts';

/** A bare address: no display name, no whitespace, nothing that could break a header. */
const ADDRESS = /^[^\s<>@,;:"()[\]\\]+@[^\s<>@,;:"()[\]\\]+\.[^\s<>@,;:"()[\]\\]+$/;
const MAX_HEADER_LINE = 998;

function invalid(field: string, why: string): never {
  throw new ValidationError(`${field}: ${why}`, { details: { field } });
}

function address(value: string, field: string): string {
  if (typeof value !== 'string' || value.length > 254 || !ADDRESS.test(value))
    invalid(field, 'not an email address');
  return value;
}

function addresses(value: string | readonly string[], field: string): string[] {
  const list = typeof value === 'string' ? [value] : [...value];
  if (list.length === 0) invalid(field, 'at least one address is needed');
  return list.map((a, i) => address(a, `${field}[${i}]`));
}

function messageIdHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bare = value.replace(/^<|>$/g, '');
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(bare) || bare.length > 250)
    invalid('messageId', 'must look like id@domain');
  return `<${bare}>`;
}

/** The List-Unsubscribe value: the https URL first (RFC 8058 needs it), then an optional mailto. */
export function listUnsubscribeValue(url: string, mailto?: string): string {
  const https = safeHttpUrl(url, { httpsOnly: true });
  if (https === undefined) invalid('unsubscribeUrl', 'must be an https URL (http only on loopback)');
  if (https.length > 900) invalid('unsubscribeUrl', 'too long for a header line');
  const entries = [`<${https}>`];
  if (mailto !== undefined) {
    if (!/^mailto:[^\s<>@,"]+@[^\s<>,"]+$/.test(mailto) || mailto.length > 400) {
      invalid('unsubscribeMailto', 'must be a mailto: URI');
    }
    entries.push(`<${mailto}>`);
  }
  const oneLine = entries.join(', ');
  // Fold between entries when one line would break the 998-character limit.
  return `List-Unsubscribe: ${oneLine}`.length <= MAX_HEADER_LINE ? oneLine : entries.join(',\r\n ');
}

export interface MimeAttachment {
  filename: string;
  content: string | Buffer;
  contentType: string;
}

export interface MimeMessageInput {
  fromName: string;
  from: string;
  to: string | readonly string[];
  replyTo?: string | undefined;
  subject: string;
  text: string;
  html: string;
  attachments?: readonly MimeAttachment[] | undefined;
  /** Extra headers, already valid (values are emitted as given). */
  headers?: Readonly<Record<string, string>> | undefined;
  messageId?: string | undefined;
  /** The Date header; the current time when left out. */
  date?: Date | number | undefined;
}

/** Any message of ours: text + html alternative, optional attachments, CRLF line ends. */
export async function buildMimeMessage(input: MimeMessageInput): Promise<Buffer> {
  const from = address(input.from, 'from');
  const to = addresses(input.to, 'to');
  const replyTo = input.replyTo === undefined ? undefined : address(input.replyTo, 'replyTo');
  const headers: Record<string, { prepared: true; value: string }> = {
    'Auto-Submitted': { prepared: true, value: 'auto-generated' },
    'X-Auto-Response-Suppress': { prepared: true, value: 'All' },
  };
  for (const [key, value] of Object.entries(input.headers ?? {})) {
    if (!/^[A-Za-z0-9-]+$/.test(key) || /[\r\n](?![ \t])/.test(value))
      invalid(`headers.${key}`, 'not a valid header');
    headers[key] = { prepared: true, value };
  }
  const messageId = messageIdHeader(input.messageId);
  const composer = new MailComposer({
    from: { name: cleanText(input.fromName, 100), address: from },
    to,
    ...(replyTo === undefined ? {} : { replyTo }),
    subject: cleanText(input.subject, 250),
    text: input.text,
    html: input.html,
    attachments: (input.attachments ?? []).map((a) => ({
      filename: cleanText(a.filename, 100) || 'attachment',
      content: a.content,
      contentType: a.contentType,
      contentDisposition: 'attachment',
    })),
    headers,
    ...(messageId === undefined ? {} : { messageId }),
    date: input.date === undefined ? new Date() : new Date(input.date),
    newline: 'windows',
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

export interface DigestMimeInput {
  model: DigestModel;
  html: string;
  text: string;
  csv: string;
  /** The sender address; default model.agency.senderAddress. The display name is the agency's. */
  from?: string | undefined;
  to: string | readonly string[];
  /** The RFC 8058 one-click endpoint (carries an unsubscribe token). */
  unsubscribeUrl: string;
  unsubscribeMailto?: string | undefined;
  /** Deterministic per (client, period) so a retried send is the same message. */
  messageId?: string | undefined;
  date?: Date | number | undefined;
  csvFilename?: string | undefined;
}

/** The digest email as raw bytes. Throws ValidationError naming the field on a bad address or URL. */
export async function buildDigestMime(input: DigestMimeInput): Promise<Buffer> {
  const { model } = input;
  return buildMimeMessage({
    fromName: model.agency.name,
    from: input.from ?? model.agency.senderAddress,
    to: input.to,
    replyTo: model.agency.replyTo,
    subject: digestSubject(model),
    text: input.text,
    html: input.html,
    attachments: [
      {
        filename: input.csvFilename ?? digestCsvFilename(model),
        content: input.csv,
        contentType: 'text/csv; charset=utf-8',
      },
    ],
    headers: {
      'List-Unsubscribe': listUnsubscribeValue(input.unsubscribeUrl, input.unsubscribeMailto),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    messageId: input.messageId,
    date: input.date,
  });
}

export interface RollupMimeInput {
  model: RollupModel;
  html: string;
  text: string;
  from?: string | undefined;
  to: string | readonly string[];
  messageId?: string | undefined;
  date?: Date | number | undefined;
}

/** The operator's roll-up email as raw bytes (no unsubscribe: it goes to the agency itself). */
export async function buildRollupMime(input: RollupMimeInput): Promise<Buffer> {
  return buildMimeMessage({
    fromName: input.model.agency.name,
    from: input.from ?? input.model.agency.senderAddress,
    to: input.to,
    subject: rollupSubject(input.model),
    text: input.text,
    html: input.html,
    messageId: input.messageId,
    date: input.date,
  });
}
