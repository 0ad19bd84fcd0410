import { describe, expect, it } from 'vitest';
import {
  buildClientDigest,
  buildClientDigestModel,
  type DigestBuildDeps,
} from '../../shared/app/digest/build.ts';
import { digestScheduleOf, latestPeriod } from '../../shared/app/digest/schedule.ts';
import type { ClientRecord } from '../../shared/domain/account.ts';
import { verifyApprovalToken } from '../../shared/domain/approval/token.ts';
import { SAMPLE_NOW } from '../../shared/runtime/digest-sample.ts';
import { DAY, startAccountHarness } from '../support/account-harness.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BASE_URL, startDigestWorld, TEST_AGENCY, TEST_KEY } from '../support/digest.ts';

const WEEK = 7 * DAY;

function tokenOf(url: string | undefined): string {
  return new URL(url ?? 'https://invalid.example/').searchParams.get('t') ?? '';
}

describe('digest facts gathered from the store', () => {
  const db = useDynamoBackend(dynaliteBackend);

  it('tells each account’s week: followers, who came and left, follow-backs, promise, skips, one-sided, chart', async () => {
    // Prepare
    const world = await startDigestWorld(db);
    const deps: DigestBuildDeps = {
      store: world.store,
      samples: world.digests,
      clock: world.clock,
      agency: TEST_AGENCY,
      keys: TEST_KEY,
      baseUrl: BASE_URL,
    };
    const period = latestPeriod(digestScheduleOf(world.sample.client), SAMPLE_NOW);
    // Act
    const { model, csv } = await buildClientDigest(deps, world.sample.client, period);
    // Assess
    expect(model.period.label).toBe('2 – 8 Mar 2026');
    const [shop, kitchen] = model.accounts;
    expect(shop).toMatchObject({
      handle: 'sunrisebakery',
      mode: 'approve',
      followersNow: 2_409,
      netChange: 7,
    });
    expect(shop?.newFollowers.map((f) => f.user.handle).slice(0, 3)).toEqual([
      'oatmilk_anna',
      'flourpower',
      'marktschwaermer',
    ]);
    expect(shop?.newFollowers).toHaveLength(9);
    expect(shop?.lost.map((f) => f.user.name).sort()).toEqual(['Moved Away', 'Profile not read yet']);
    expect(shop?.awaitingApproval).toHaveLength(7);
    expect(shop?.awaitingApproval.at(-1)).toMatchObject({
      user: { handle: 'deals4u_9921' },
      spamSignals: ['new_account', 'follow_ratio'],
    });
    expect(shop?.skipsByReason).toEqual([
      { reason: 'deny_list', count: 1 },
      { reason: 'spam', count: 1 },
    ]);
    expect(shop?.oneSidedTotal).toBe(6);
    expect(shop?.oneSided[0]).toMatchObject({ user: { handle: 'moved_away' }, since: expect.any(Number) });
    expect(shop?.weeklyFollowers.map((p) => p.count)).toEqual([
      2_202, 2_218, 2_234, 2_265, 2_281, 2_297, 2_328, 2_344, 2_360, 2_391, 2_402, 2_409,
    ]);
    expect(kitchen).toMatchObject({
      mode: 'auto',
      followersNow: 817,
      netChange: 5,
      promiseKeptPct: 75,
      promiseJudged: 4,
      longestDelayMs: 80 * 3_600_000,
      failures: 1,
    });
    expect(kitchen?.followBacksDone.map((d) => d.outcome).sort()).toEqual([
      'followed',
      'followed',
      'followed',
      'requested',
    ]);
    expect(csv.split('\n').filter((line) => line.includes('new_follower'))).toHaveLength(14);
  });

  it('links each candidate, and the whole batch, with tokens bound to the client and account', async () => {
    // Prepare
    const world = await startDigestWorld(db);
    const deps: DigestBuildDeps = {
      store: world.store,
      clock: world.clock,
      agency: TEST_AGENCY,
      keys: TEST_KEY,
      baseUrl: BASE_URL,
    };
    const period = latestPeriod(digestScheduleOf(world.sample.client), SAMPLE_NOW);
    // Act
    const model = await buildClientDigestModel(deps, world.sample.client, period);
    // Assess
    const shop = model.accounts[0]!;
    for (const candidate of shop.awaitingApproval) {
      expect(candidate.approveUrl).toMatch(/^https:\/\/approve\.agency\.example\/approve\/sunrise\?t=/);
      const verified = verifyApprovalToken(tokenOf(candidate.approveUrl), TEST_KEY, SAMPLE_NOW, {
        clientId: 'sunrise',
        accountId: 'x-sunrise',
        scope: 'candidate',
      });
      expect(verified).toMatchObject({ ok: true, payload: { targetIds: [candidate.user.id] } });
    }
    const batch = verifyApprovalToken(tokenOf(shop.links.approveAll), TEST_KEY, SAMPLE_NOW, {
      scope: 'batch',
    });
    expect(batch.ok && [...(batch.payload.targetIds ?? [])].sort()).toEqual(
      world.sample.pending['x-sunrise']?.slice().sort(),
    );
    const unsubscribe = verifyApprovalToken(tokenOf(model.links.unsubscribe), TEST_KEY, SAMPLE_NOW, {
      clientId: 'sunrise',
      scope: 'unsubscribe',
    });
    expect(unsubscribe.ok).toBe(true);
    expect(model.accounts[1]?.links.approveAll).toBeUndefined();
  });

  it('records the follower counts of the period for later charts, once the period is over', async () => {
    // Prepare
    const world = await startDigestWorld(db);
    const deps: DigestBuildDeps = {
      store: world.store,
      samples: world.digests,
      clock: world.clock,
      agency: TEST_AGENCY,
      keys: TEST_KEY,
      baseUrl: BASE_URL,
    };
    const period = latestPeriod(digestScheduleOf(world.sample.client), SAMPLE_NOW);
    const shop = world.sample.accounts[0]!;
    // Act
    await buildClientDigestModel(deps, world.sample.client, period);
    const next = await buildClientDigestModel(
      { ...deps, clock: { now: () => SAMPLE_NOW + WEEK } },
      world.sample.client,
      { start: period.end, end: period.end + WEEK },
    );
    // Assess
    const samples = await world.digests.listFollowerSamples(shop, period.start - 1, period.end);
    expect(samples).toEqual([
      { at: period.start - 1, followers: 2_402 },
      { at: period.end - 1, followers: 2_409, following: 306 },
    ]);
    expect(next.accounts[0]?.weeklyFollowers.slice(-3).map((p) => p.count)).toEqual([2_402, 2_409, 2_409]);
  });

  it('agrees with what the engine observed and queued on a sandbox account in approve mode', async () => {
    // Prepare: a week of followers arriving and leaving, observed and reconciled by the real tick
    const harness = await startAccountHarness(db, {
      // Enough leave (over 5% by the counts) that full scans run to name them
      owner: { initialFollowers: 300, followersPerDay: 25, unfollowsPerDay: 8 },
      observe: { fullScanMinDays: 1, detectionDelayHours: 6 },
    });
    try {
      const client: ClientRecord = {
        clientId: harness.account.clientId,
        name: 'Acme',
        timeZone: 'UTC',
        digestEmails: ['owner@acme.example'],
        createdAt: 0,
      };
      await harness.store.putClient(client);
      await harness.runFor(WEEK);
      const now = harness.clock.now();
      const period = latestPeriod(digestScheduleOf(client), now);
      const deps: DigestBuildDeps = {
        store: harness.store,
        clock: harness.clock,
        agency: TEST_AGENCY,
        keys: TEST_KEY,
        baseUrl: BASE_URL,
      };
      // Act
      const model = await buildClientDigestModel(deps, client, period);
      // Assess
      const account = model.accounts[0]!;
      const tasks = (await harness.store.listTasks(harness.account)).map((t) => t.task);
      const inPeriod = (at: number) => at >= period.start && at < period.end;
      const waiting = tasks.filter((t) => t.state === 'pending_approval').map((t) => t.targetId);
      expect(account.awaitingApproval.map((c) => c.user.id).sort()).toEqual(waiting.sort());
      expect(waiting.length).toBeGreaterThan(50);
      const detected = tasks.filter((t) => !t.backfill && inPeriod(t.detectedAt)).map((t) => t.targetId);
      expect(account.newFollowers.map((f) => f.user.id).sort()).toEqual(detected.sort());
      const followedInWorld = new Set(
        harness.world
          .events({ ownerId: harness.owner.id, since: period.start, kinds: ['followed'] })
          .map((e) => e.userId),
      );
      expect(account.newFollowers.every((f) => followedInWorld.has(f.user.id))).toBe(true);
      expect(account.lost.length).toBeGreaterThan(0);
      // The count at the period's end: today's count less what the changesets after the end changed.
      const state = (await harness.store.getState(harness.account))!.state.observe;
      const after = (await harness.store.getChangesets(harness.account, 0, state.seq)).filter(
        (c) => c.kind === 'followers' && c.at >= period.end,
      );
      expect(after.length).toBeGreaterThan(0);
      expect(account.followersNow).toBe(
        state.graphs.followers.count - after.reduce((sum, c) => sum + c.addedCount - c.removedCount, 0),
      );
      expect(account.netChange).toBe(account.newFollowers.length - account.lost.length);
      expect(account.followBacksDone).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});
