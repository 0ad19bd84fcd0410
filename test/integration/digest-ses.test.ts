import { CreateEmailIdentityCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesClient, SesMailer } from '../../shared/adapters/ses/ses-mailer.ts';
import { sendClientDigest } from '../../shared/app/digest/send.ts';
import { verifyApprovalToken } from '../../shared/domain/approval/token.ts';
import { MailRejectedError } from '../../shared/ports/mailer.ts';
import { SAMPLE_CLIENT_ID } from '../../shared/runtime/digest-sample.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { sendDeps, startDigestWorld, TEST_AGENCY, TEST_KEY } from '../support/digest.ts';
import { type MotoServer, startMoto } from '../support/moto.ts';

interface MotoRawMessage {
  id: string;
  source: string;
  destinations: string[];
  raw_data: string;
}

describe('the digest through SES v2 (moto server)', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let moto: MotoServer;
  let ses: SESv2Client;

  beforeAll(async () => {
    moto = await startMoto();
    ses = createSesClient({ region: 'us-east-1', endpoint: moto.endpoint });
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'agency.example' }));
  });

  afterAll(async () => {
    ses?.destroy();
    await moto?.stop();
  });

  async function sentMessages(): Promise<MotoRawMessage[]> {
    const response = await fetch(`${moto.endpoint}/moto-api/data.json`);
    const data = (await response.json()) as { ses?: { RawMessage?: MotoRawMessage[] } };
    return data.ses?.RawMessage ?? [];
  }

  it('sends the digest as one raw message with its parts and RFC 8058 headers, once', async () => {
    // Prepare
    const world = await startDigestWorld(db);
    const deps = sendDeps(world, new SesMailer({ client: ses, configurationSetName: undefined }));
    // Act
    const first = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    const second = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    // Assess
    expect(first).toMatchObject({ outcome: 'sent', providerId: expect.any(String) });
    expect(second.outcome).toBe('already_sent');
    const ours = (await sentMessages()).filter((m) =>
      m.raw_data.includes('Message-ID: <digest.sunrise.2026-03-02@agency.example>'),
    );
    expect(ours).toHaveLength(1);
    const message = ours[0]!;
    expect(message.id).toBe(first.outcome === 'sent' ? first.providerId : '');
    expect(message.source).toBe('digest@agency.example');
    expect(message.destinations).toContain('owner@sunrise-bakery.example');

    const mail = await simpleParser(message.raw_data);
    expect(mail.subject).toBe('Weekly digest for Sunrise Bakery: 2 – 8 Mar 2026');
    expect(mail.from?.value).toEqual([{ name: 'Sunrise Social', address: 'digest@agency.example' }]);
    expect(mail.to).toMatchObject({ value: [{ address: 'owner@sunrise-bakery.example' }] });
    expect(mail.messageId).toBe('<digest.sunrise.2026-03-02@agency.example>');
    const lines = Object.fromEntries(mail.headerLines.map((h) => [h.key, h.line]));
    expect(lines['list-unsubscribe-post']).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(lines['auto-submitted']).toBe('Auto-Submitted: auto-generated');
    const url = /^List-Unsubscribe: <([^>]+)>$/.exec(lines['list-unsubscribe'] ?? '')?.[1] ?? '';
    expect(url).toMatch(/^https:\/\/approve\.agency\.example\/unsubscribe\/sunrise\?t=/);
    const token = new URL(url).searchParams.get('t');
    expect(
      verifyApprovalToken(token, TEST_KEY, world.clock.now(), { clientId: 'sunrise', scope: 'unsubscribe' })
        .ok,
    ).toBe(true);
    expect(mail.text).toContain('@sunrisebakery');
    expect(mail.text).toContain('Waiting for your approval');
    expect(mail.html).toContain('data-chart="followers"');
    expect(mail.html).toContain('https://approve.agency.example/approve/sunrise?t=');
    expect(mail.attachments.map((a) => [a.contentType, a.filename])).toEqual([
      ['text/csv', 'sunrise-bakery-2026-03-02.csv'],
    ]);
    expect(mail.attachments[0]?.content.toString('utf8')).toContain('oatmilk_anna');
  });

  it('refuses a sender SES does not know, and gives up on the period without sending', async () => {
    // Prepare
    const world = await startDigestWorld(db);
    const mailer = new SesMailer({ client: ses });
    const deps = sendDeps(world, mailer, {
      agency: { ...TEST_AGENCY, senderAddress: 'digest@unverified.example' },
    });
    const before = (await sentMessages()).length;
    // Act
    const result = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    const direct = mailer.send({
      key: { clientId: 'x', periodKey: 'p', kind: 'digest' },
      raw: Buffer.from('Subject: x\r\n\r\nx'),
      from: 'digest@unverified.example',
      to: ['a@b.example'],
      messageId: 'x@unverified.example',
    });
    // Assess
    expect(result.outcome).toBe('failed');
    expect((result as { retryAt?: number }).retryAt).toBeUndefined();
    await expect(direct).rejects.toThrow(MailRejectedError);
    await expect(direct).rejects.toMatchObject({ retryable: false });
    expect((await sentMessages()).length).toBe(before);
  });
});
