import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-outbox-mode-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('the file outbox', () => {
  it('writes messages (which hold approval and unsubscribe links) readable by the owner only', async () => {
    // Prepare: a client folder left world-readable by an older version
    const mailer = new OutboxMailer({ dir });
    await mkdir(join(dir, 'acme'), { mode: 0o755 });
    const mail = {
      key: { clientId: 'acme', periodKey: '2026-03-02', kind: 'digest' },
      raw: new TextEncoder().encode(
        'Message-ID: <m1@x>\r\n\r\nhttps://approve.example/approve/acme?t=secret',
      ),
      from: 'digest@agency.example',
      to: ['owner@acme.example'],
      messageId: 'm1@x',
      html: '<a href="https://approve.example/approve/acme?t=secret">Approve</a>',
    };

    // Act
    await mailer.send(mail);
    await mailer.send(mail);

    // Assess
    const paths = mailer.pathsOf(mail.key);
    expect(await mode(paths.eml)).toBe(0o600);
    expect(await mode(paths.html)).toBe(0o600);
    expect(await mode(join(dir, 'acme'))).toBe(0o700);
    expect(await mailer.check(mail)).toBe('sent');
  });
});
