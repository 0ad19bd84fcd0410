import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeEach, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';
import { DEFAULT_LEASE_MS } from '../../shared/app/digest/deliver.ts';
import { dueDigests, sendDueDigests } from '../../shared/app/digest/dispatch.ts';
import { sendDueRollup } from '../../shared/app/digest/rollup.ts';
import { sendClientDigest } from '../../shared/app/digest/send.ts';
import { type Mailer, MailRejectedError } from '../../shared/ports/mailer.ts';
import { SAMPLE_CLIENT_ID } from '../../shared/runtime/digest-sample.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import {
  BlindMailer,
  CountingMailer,
  CrashingRuns,
  type DigestWorld,
  outboxMailer,
  sendDeps,
  startDigestWorld,
} from '../support/digest.ts';

const HOUR = 3_600_000;
const PERIOD = { scope: 'client', clientId: SAMPLE_CLIENT_ID, periodKey: '2026-03-02' } as const;

describe('sending the digest exactly once per client and period', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;

  beforeEach(async () => {
    world = await startDigestWorld(db);
  });

  it('sends one digest when the tick is delivered twice', async () => {
    // Prepare
    const mailer = outboxMailer(world);
    const deps = sendDeps(world, mailer);
    // Act
    const first = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    world.clock.advance(HOUR);
    const second = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    // Assess
    expect(first.outcome).toBe('sent');
    expect(second.outcome).toBe('already_sent');
    expect(mailer.sent).toHaveLength(1);
    expect(await readdir(join(world.outboxDir, SAMPLE_CLIENT_ID))).toEqual([
      '2026-03-02-digest.eml',
      '2026-03-02-digest.html',
    ]);
    expect((await world.digests.getRun(PERIOD))?.run.state).toBe('sent');
  });

  it('sends one mail when five workers race for the same client', async () => {
    // Prepare
    const mailer = outboxMailer(world);
    // Act
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        sendClientDigest(sendDeps(world, mailer, { holder: `worker-${n}` }), SAMPLE_CLIENT_ID),
      ),
    );
    // Assess
    const outcomes = results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'sent' || o === 'busy' || o === 'already_sent')).toBe(true);
    expect(mailer.sent).toHaveLength(1);
  });

  it('does not send again after a crash between sending and marking it sent, when the outbox has it', async () => {
    // Prepare: the process dies right after the mailer took the message, before the run says so
    const mailer = outboxMailer(world);
    const runs = new CrashingRuns(world.digests, (run) => (run.state === 'sent' ? 'before' : undefined));
    await expect(sendClientDigest(sendDeps(world, mailer, { runs }), SAMPLE_CLIENT_ID)).rejects.toThrow(
      'simulated crash',
    );
    expect((await world.digests.getRun(PERIOD))?.run.state).toBe('sending');
    // Act: the retry, before the lease ran out, then after
    const early = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    world.clock.advance(DEFAULT_LEASE_MS + 1);
    const retry = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    // Assess
    expect(early.outcome).toBe('busy');
    expect(retry).toMatchObject({ outcome: 'already_sent', recovered: 'mailer_had_it' });
    expect(mailer.sent).toHaveLength(1);
    expect((await world.digests.getRun(PERIOD))?.run).toMatchObject({
      state: 'sent',
      recovered: 'mailer_had_it',
    });
  });

  it('sends on retry after a crash before the mailer was called, when the outbox does not have it', async () => {
    // Prepare: `sending` is recorded, then the process dies
    const mailer = outboxMailer(world);
    const runs = new CrashingRuns(world.digests, (run) => (run.state === 'sending' ? 'after' : undefined));
    await expect(sendClientDigest(sendDeps(world, mailer, { runs }), SAMPLE_CLIENT_ID)).rejects.toThrow();
    // Act
    world.clock.advance(DEFAULT_LEASE_MS + 1);
    const retry = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    // Assess
    expect(retry).toMatchObject({ outcome: 'sent', recovered: 'mailer_did_not' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('does not send again when the mailer cannot tell (at-most-once, the default)', async () => {
    // Prepare: an SES-like mailer; the process dies after it took the message
    const mailer = new BlindMailer();
    const runs = new CrashingRuns(world.digests, (run) => (run.state === 'sent' ? 'before' : undefined));
    await expect(sendClientDigest(sendDeps(world, mailer, { runs }), SAMPLE_CLIENT_ID)).rejects.toThrow();
    // Act
    world.clock.advance(DEFAULT_LEASE_MS + 1);
    const retry = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    const again = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    // Assess
    expect(retry.outcome).toBe('uncertain');
    expect(again.outcome).toBe('uncertain');
    expect(mailer.sent).toHaveLength(1);
    expect(await dueDigests({ store: world.store, runs: world.digests }, world.clock.now())).toEqual([]);
  });

  it('sends once more after such a crash when the policy is at-least-once, with the same Message-ID', async () => {
    // Prepare
    const mailer = new BlindMailer();
    const runs = new CrashingRuns(world.digests, (run) => (run.state === 'sent' ? 'before' : undefined));
    const deps = sendDeps(world, mailer, { onUncertain: 'at-least-once' });
    await expect(sendClientDigest({ ...deps, runs }, SAMPLE_CLIENT_ID)).rejects.toThrow();
    // Act
    world.clock.advance(DEFAULT_LEASE_MS + 1);
    const retry = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    const again = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    // Assess
    expect(retry).toMatchObject({ outcome: 'sent', recovered: 'unknown_resent' });
    expect(again.outcome).toBe('already_sent');
    expect(mailer.sent).toHaveLength(2);
    expect(mailer.sent[0]?.messageId).toBe(mailer.sent[1]?.messageId);
  });

  it('treats a send whose outcome the mailer does not know as maybe sent, and does not repeat it', async () => {
    // Prepare: a timeout in the middle of the call
    let calls = 0;
    const flaky: Mailer = {
      async send() {
        calls += 1;
        throw new Error('socket hang up');
      },
      async check() {
        return 'unknown';
      },
    };
    // Act
    const first = await sendClientDigest(sendDeps(world, flaky), SAMPLE_CLIENT_ID);
    world.clock.advance(2 * HOUR);
    const second = await sendClientDigest(sendDeps(world, flaky), SAMPLE_CLIENT_ID);
    // Assess
    expect(first.outcome).toBe('uncertain');
    expect(second.outcome).toBe('uncertain');
    expect(calls).toBe(1);
  });

  it('retries a refused send after the delay, and gives up on a refusal that will not pass', async () => {
    // Prepare: throttled once, then accepted
    const inner = new BlindMailer();
    let refusals = 1;
    const throttled: Mailer = {
      async send(mail) {
        if (refusals-- > 0) throw new MailRejectedError('TooManyRequestsException', { retryable: true });
        return inner.send(mail);
      },
      check: () => inner.check(),
    };
    // Act
    const refused = await sendClientDigest(sendDeps(world, throttled), SAMPLE_CLIENT_ID);
    const tooSoon = await sendClientDigest(sendDeps(world, throttled), SAMPLE_CLIENT_ID);
    world.clock.advance(HOUR);
    const later = await sendClientDigest(sendDeps(world, throttled), SAMPLE_CLIENT_ID);
    // Assess
    expect(refused).toMatchObject({ outcome: 'failed', retryAt: world.clock.now() - HOUR + 15 * 60_000 });
    expect(tooSoon.outcome).toBe('failed');
    expect(later.outcome).toBe('sent');
    expect(inner.sent).toHaveLength(1);
    expect((await world.digests.getRun(PERIOD))?.run.attempts).toBe(2);
  });

  it('gives up on a period whose sender is refused for good', async () => {
    // Prepare
    const refusing: Mailer = {
      async send() {
        throw new MailRejectedError('MessageRejected: Email address is not verified', { retryable: false });
      },
      async check() {
        return 'not_sent';
      },
    };
    // Act
    const first = await sendClientDigest(sendDeps(world, refusing), SAMPLE_CLIENT_ID);
    world.clock.advance(2 * HOUR);
    const second = await sendClientDigest(sendDeps(world, refusing), SAMPLE_CLIENT_ID);
    // Assess
    for (const result of [first, second]) {
      expect(result.outcome).toBe('failed');
      expect((result as { retryAt?: number }).retryAt).toBeUndefined();
    }
    expect(await dueDigests({ store: world.store, runs: world.digests }, world.clock.now())).toEqual([]);
  });

  it('sends nothing outside the send window, to an unsubscribed client, or to a client without addresses', async () => {
    // Prepare
    const mailer = new BlindMailer();
    const deps = sendDeps(world, mailer);
    // Act
    const early = await sendClientDigest(deps, SAMPLE_CLIENT_ID, Date.UTC(2026, 2, 9, 6, 59)); // 07:59 Berlin
    const stale = await sendClientDigest(deps, SAMPLE_CLIENT_ID, Date.UTC(2026, 2, 10, 7, 0)); // a day late
    await world.digests.setDigestOptOut(SAMPLE_CLIENT_ID, true, world.clock.now());
    const optedOut = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    await world.digests.setDigestOptOut(SAMPLE_CLIENT_ID, false, world.clock.now());
    await world.store.putClient({ ...world.sample.client, digestEmails: [] });
    const nobody = await sendClientDigest(deps, SAMPLE_CLIENT_ID);
    const unknown = await sendClientDigest(deps, 'nobody-here');
    // Assess
    expect(early).toMatchObject({ outcome: 'not_due', nextPeriodKey: '2026-02-23' });
    expect(stale.outcome).toBe('not_due');
    expect(optedOut.outcome).toBe('opted_out');
    expect(nobody.outcome).toBe('no_recipients');
    expect(unknown.outcome).toBe('unknown_client');
    expect(mailer.sent).toHaveLength(0);
  });

  it('lists clients as due at their own local send time', async () => {
    // Prepare: Tokyo on Monday 08:00, New York on Friday 17:00, Berlin on Monday 08:00 (the sample)
    const base = { digestEmails: ['a@b.example'], createdAt: 0 };
    await world.store.putClient({ ...base, clientId: 'tokyo', name: 'Tokyo Tea', timeZone: 'Asia/Tokyo' });
    await world.store.putClient({
      ...base,
      clientId: 'nyc',
      name: 'NYC Deli',
      timeZone: 'America/New_York',
      digestWeekday: 5,
      digestHour: 17,
    });
    const deps = { store: world.store, runs: world.digests };
    // Act
    const sundayNight = await dueDigests(deps, Date.UTC(2026, 2, 8, 23, 30)); // Mon 08:30 in Tokyo
    const mondayMorning = await dueDigests(deps, Date.UTC(2026, 2, 9, 7, 30)); // 08:30 Berlin
    const fridayEvening = await dueDigests(deps, Date.UTC(2026, 2, 13, 21, 0)); // 17:00 EDT
    // Assess
    expect(sundayNight.map((d) => d.clientId)).toEqual(['tokyo']);
    expect(mondayMorning.map((d) => d.clientId)).toEqual(['tokyo', SAMPLE_CLIENT_ID]);
    expect(fridayEvening).toEqual([
      expect.objectContaining({
        clientId: 'nyc',
        periodKey: '2026-03-06',
        sendAt: Date.UTC(2026, 2, 13, 21, 0),
      }),
    ]);
  });

  it('sends every due digest and the roll-up in one tick, each once', async () => {
    // Prepare: a second client whose account needs reconnecting, the worst problem: first in the roll-up
    await world.store.putClient({
      clientId: 'acme',
      name: 'Acme Shoes',
      timeZone: 'Europe/Berlin',
      digestEmails: ['boss@acme.example'],
      createdAt: 0,
    });
    await world.store.putAccount({
      ...world.sample.accounts[1]!,
      clientId: 'acme',
      accountId: 'x-acme',
      status: 'token_expired',
    });
    const mailer = new CountingMailer(new OutboxMailer({ dir: world.outboxDir }));
    const deps = sendDeps(world, mailer);
    // Act
    const first = await sendDueDigests(deps);
    const second = await sendDueDigests(deps);
    // Assess
    expect(first.digests.map((d) => [d.clientId, d.outcome])).toEqual([
      ['acme', 'sent'],
      [SAMPLE_CLIENT_ID, 'sent'],
    ]);
    expect(first.rollup.outcome).toBe('sent');
    expect(second.digests).toEqual([]);
    expect(second.rollup.outcome).toBe('already_sent');
    expect(mailer.sent.map((m) => m.key.kind).sort()).toEqual(['digest', 'digest', 'rollup']);
    const rollup = await simpleParser(
      await readFile(join(world.outboxDir, 'agency', '2026-03-02-rollup.eml')),
    );
    expect(rollup.to).toMatchObject({ text: 'ops@agency.example' });
    const text = rollup.text ?? '';
    const lines = text.split('\n').filter((line) => line.startsWith('['));
    expect(lines.map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      '[RECONNECT NEEDED] Acme Shoes / X @sunrisekitchen',
      '[FAILURES, PROMISE MISSED] Sunrise Bakery / X @sunrisekitchen',
      '[ok] Sunrise Bakery / X @sunrisebakery',
    ]);
  });

  it('sends the roll-up once even when raced', async () => {
    // Prepare
    const mailer = new BlindMailer();
    // Act
    const results = await Promise.all(
      [1, 2, 3].map((n) => sendDueRollup(sendDeps(world, mailer, { holder: `w${n}` }))),
    );
    // Assess
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(1);
    expect(mailer.sent).toHaveLength(1);
  });
});
