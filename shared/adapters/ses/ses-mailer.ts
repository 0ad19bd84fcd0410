import { SESv2Client, type SESv2ClientConfig, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { DeliveryCheck, Mailer, OutgoingMail, SentMail } from '../../ports/mailer.ts';
import { MailRejectedError, MailUncertainError } from '../../ports/mailer.ts';

/**
 * The Mailer on Amazon SES v2: `SendEmail` with `Content.Raw` (the bytes built by
 * shared/adapters/mime), the recipients as the envelope's destination, and an optional
 * configuration set (event publishing, suppression).
 *
 * SendEmail has no idempotency token, and SES has no lookup by Message-ID, so this mailer never
 * retries by itself and `check` answers `unknown`; the caller decides (shared/app/digest/deliver.ts).
 * Errors are split by what they say about the message: an answer that refuses it (4xx: bad input,
 * unverified sender, paused account, throttled) is MailRejectedError, certainly not sent;
 * anything else (5xx, a timeout, a dropped connection) is MailUncertainError, maybe sent.
 */
export interface SesMailerOptions {
  client: SESv2Client;
  configurationSetName?: string | undefined;
}

const THROTTLED = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException']);

export class SesMailer implements Mailer {
  readonly #client: SESv2Client;
  readonly #configurationSet: string | undefined;

  constructor(options: SesMailerOptions) {
    this.#client = options.client;
    this.#configurationSet = options.configurationSetName;
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    let out: { MessageId?: string | undefined };
    try {
      out = await this.#client.send(
        new SendEmailCommand({
          FromEmailAddress: mail.from,
          Destination: { ToAddresses: [...mail.to] },
          Content: { Raw: { Data: mail.raw } },
          ...(this.#configurationSet === undefined ? {} : { ConfigurationSetName: this.#configurationSet }),
          EmailTags: [{ Name: 'kind', Value: tagValue(mail.key.kind) }],
        }),
      );
    } catch (error) {
      throw classify(error, mail);
    }
    return { messageId: mail.messageId, providerId: out.MessageId ?? '' };
  }

  /** SES cannot be asked whether it took a message: always `unknown`. */
  async check(): Promise<DeliveryCheck> {
    return 'unknown';
  }
}

/**
 * An SESv2Client for the mailer: one attempt per call (a retried SendEmail after a timeout could
 * send twice), default credentials on AWS; dummy credentials for a loopback endpoint (moto).
 */
export function createSesClient(options: { region: string; endpoint?: string | undefined }): SESv2Client {
  const config: SESv2ClientConfig = { region: options.region, maxAttempts: 1 };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    const host = new URL(options.endpoint).hostname;
    if (host === 'localhost' || host === '[::1]' || /^127\./.test(host)) {
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    }
  }
  return new SESv2Client(config);
}

function classify(error: unknown, mail: OutgoingMail): Error {
  const name = error instanceof Error ? error.name : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const details = { messageId: mail.messageId, errorName: name, httpStatus: status };
  if (status !== undefined && status >= 400 && status < 500) {
    return new MailRejectedError(`SES refused message ${mail.messageId}: ${name}`, {
      cause: error,
      details,
      retryable: THROTTLED.has(name) || status === 429,
    });
  }
  return new MailUncertainError(`SES send of ${mail.messageId} may or may not have happened: ${name}`, {
    cause: error,
    details,
  });
}

function tagValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
  return cleaned === '' ? 'mail' : cleaned;
}
