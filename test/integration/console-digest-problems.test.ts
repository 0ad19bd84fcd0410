/**
 * The clients page lists a failed digest as a problem: a send the mail service refused stays a
 * problem of its client until a later send of the digest goes out.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { clientsOverview, digestProblem } from '../../shared/app/console/overview.ts';
import { sendClientDigest } from '../../shared/app/digest/send.ts';
import type { DigestRun } from '../../shared/ports/digest-store.ts';
import { type Mailer, MailRejectedError } from '../../shared/ports/mailer.ts';
import { SAMPLE_CLIENT_ID } from '../../shared/runtime/digest-sample.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BlindMailer, type DigestWorld, sendDeps, startDigestWorld } from '../support/digest.ts';

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

describe('a failed digest on the clients page', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;

  beforeEach(async () => {
    world = await startDigestWorld(db);
  });

  const read = () => ({ store: world.store, samples: world.digests, runs: world.digests });
  const problemsOf = async () =>
    (await clientsOverview(read(), world.clock.now())).find((c) => c.client.clientId === SAMPLE_CLIENT_ID)
      ?.problems ?? [];

  /** A mailer that refuses the first `refusals` messages as SES does, then takes them. */
  function refusingMailer(refusals: number, retryable = true): Mailer & { sent: BlindMailer['sent'] } {
    const inner = new BlindMailer();
    let left = refusals;
    return {
      sent: inner.sent,
      async send(mail) {
        if (left-- > 0)
          throw new MailRejectedError('MessageRejected: Email address is not verified.', { retryable });
        return inner.send(mail);
      },
      check: () => inner.check(),
    };
  }

  it('shows a refused send as a problem, with the mail service’s error, until its retry goes out', async () => {
    // Prepare
    const mailer = refusingMailer(1);
    const refused = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    expect(refused.outcome).toBe('failed');
    // Act
    const whileFailing = await problemsOf();
    world.clock.advance(HOUR);
    const retried = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    const afterRetry = await problemsOf();
    // Assess
    expect(whileFailing.filter((p) => p.kind === 'digest_failed')).toHaveLength(1);
    expect(whileFailing.find((p) => p.kind === 'digest_failed')?.text).toContain(
      'MessageRejected: Email address is not verified.',
    );
    expect(retried.outcome).toBe('sent');
    expect(afterRetry.filter((p) => p.kind === 'digest_failed')).toEqual([]);
  });

  it('keeps a period given up on as a problem until the next period’s digest is sent', async () => {
    // Prepare: refused for good this week
    const mailer = refusingMailer(1, false);
    await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    world.clock.advance(HOUR);
    await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    const stillFailing = await problemsOf();
    // Act: a week later the next digest goes out
    world.clock.advance(WEEK);
    const next = await sendClientDigest(sendDeps(world, mailer), SAMPLE_CLIENT_ID);
    // Assess
    expect(stillFailing.find((p) => p.kind === 'digest_failed')?.text).toContain('given up');
    expect(next.outcome).toBe('sent');
    expect((await problemsOf()).filter((p) => p.kind === 'digest_failed')).toEqual([]);
  });

  it('puts a client whose digest failed before clients without problems', async () => {
    // Prepare
    await world.store.putClient({
      clientId: 'aaa-calm',
      name: 'AAA Calm',
      timeZone: 'Europe/Berlin',
      digestEmails: ['calm@example.com'],
      createdAt: world.clock.now(),
    });
    await sendClientDigest(sendDeps(world, refusingMailer(1)), SAMPLE_CLIENT_ID);
    // Act
    const overview = await clientsOverview(read(), world.clock.now());
    // Assess
    const ids = overview.map((c) => c.client.clientId);
    expect(ids.indexOf(SAMPLE_CLIENT_ID)).toBeLessThan(ids.indexOf('aaa-calm'));
  });
});

describe('digestProblem', () => {
  const run = (
    state: DigestRun['state'],
    periodStart: number,
    extra: Partial<DigestRun> = {},
  ): DigestRun => ({
    state,
    kind: 'digest',
    periodStart,
    periodEnd: periodStart + WEEK,
    messageId: `m${periodStart}`,
    holder: 'w',
    leaseUntil: 0,
    attempts: 1,
    claimedAt: periodStart,
    updatedAt: periodStart,
    ...extra,
  });

  it('judges by the latest run that is not in progress', () => {
    // Prepare
    const failed = run('failed', 0, { error: 'Throttling', retryAt: 10 });
    const sending = run('sending', WEEK);
    // Act
    const sendingAfterFailure = digestProblem([sending, failed], 0);
    const sentAfterFailure = digestProblem([run('sent', WEEK), failed], 0);
    // Assess
    expect(sendingAfterFailure?.kind).toBe('digest_failed');
    expect(sentAfterFailure).toBeUndefined();
  });

  it('calls a send of unknown outcome a problem too, and no runs none', () => {
    expect(digestProblem([run('uncertain', 0, { error: 'timeout' })], 0)?.text).toContain(
      'may not have been sent',
    );
    expect(digestProblem([], 0)).toBeUndefined();
  });
});
