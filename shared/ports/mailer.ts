import { FollowbackError } from '../domain/errors.ts';

/**
 * The Mailer port: hands one raw RFC 5322 message to a mail service (SES v2 on AWS) or writes it
 * somewhere a person can open it (the local outbox). The message is built elsewhere
 * (shared/adapters/mime); a mailer never changes its bytes.
 */

/** Names a message for mailers that keep files, and for logs. Each part is an id (no '/', no '#'). */
export interface MailKey {
  clientId: string;
  /** The period, e.g. `2026-11-02` (the local date the period starts). */
  periodKey: string;
  /** `digest`, `rollup`, `preview`. */
  kind: string;
}

export interface OutgoingMail {
  key: MailKey;
  /** The whole message, headers and body, CRLF line ends. */
  raw: Uint8Array;
  /** Envelope sender: a bare address (a verified SES identity in the cloud). */
  from: string;
  /** Envelope recipients: bare addresses. */
  to: readonly string[];
  /**
   * The Message-ID header's value without angle brackets, deterministic per (client, period,
   * kind): the same message when a send is retried, and what `check` looks for.
   */
  messageId: string;
  /** The HTML part, for mailers that also keep it as a file for a browser (the outbox). */
  html?: string | undefined;
}

export interface SentMail {
  /** Our Message-ID (as given). */
  messageId: string;
  /** The service's own id for the message (SES MessageId), or where it was written. */
  providerId: string;
}

/**
 * What a mailer knows about an earlier attempt to send a message: `sent` (it has it),
 * `not_sent` (it certainly does not), `unknown` (it cannot tell: SES has no lookup by Message-ID).
 */
export type DeliveryCheck = 'sent' | 'not_sent' | 'unknown';

export interface Mailer {
  /**
   * Sends the message. Throws MailRejectedError when the service certainly did not accept it, and
   * MailUncertainError when it may have (a timeout, a dropped connection, a 5xx).
   */
  send(mail: OutgoingMail): Promise<SentMail>;
  /** What the mailer knows about an earlier send of this message (after a crash mid-send). */
  check(mail: Pick<OutgoingMail, 'key' | 'messageId'>): Promise<DeliveryCheck>;
}

/** A mailer that keeps each message where a person can open it (the local outbox: `.eml` and `.html`). */
export interface KeptMailer extends Mailer {
  /** Where the message of `key` is (or would be) kept. */
  pathsOf(key: MailKey): { eml: string; html: string };
}

/** The mail service certainly did not take the message (bad address, throttled, unverified sender). */
export class MailRejectedError extends FollowbackError {
  override readonly name = 'MailRejectedError';
  /** True when the same message may be sent again later (throttling, a quota reset). */
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(message, options);
    this.retryable = options.retryable ?? false;
  }
}

/** The mail service may or may not have taken the message (timeout, connection lost, 5xx). */
export class MailUncertainError extends FollowbackError {
  override readonly name = 'MailUncertainError';
}
