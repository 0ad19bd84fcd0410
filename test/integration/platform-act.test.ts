/**
 * Follow-backs in `auto` mode, the same suite on every network (X acknowledged, as the sandbox is
 * no real X): observe, reconcile and act through each network's real client against its sandbox.
 * Where networks differ in what they can express (locked accounts, bot flags), the expectation says
 * so from the harness's capabilities; nothing is skipped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import type { Network } from '../../shared/ports/platform.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { CONTRACT_NETWORKS, startContractHarness } from '../support/contract-target.ts';
import type { ContractHarness as PlatformHarness } from '../support/platform-harness.ts';
import { DAY, HOUR, MINUTE, type PlatformHarnessOptions } from '../support/platform-harness.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: PlatformHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Auto mode, every hour active, and the spam filters off: whoever follows is owed a follow-back. */
const AUTO = {
  mode: 'auto',
  acknowledgeXAutomationPolicy: true,
  quietHours: null,
  spam: {
    emptyProfile: 'off',
    defaultAvatar: 'off',
    newAccount: { action: 'off' },
    ratio: { action: 'off' },
  },
};

async function taskOf(h: PlatformHarness, userId: string): Promise<FollowTask | undefined> {
  return (await h.store.getTask(h.account, h.idOf(userId)))?.task;
}

describe.each(CONTRACT_NETWORKS)('follow-backs on %s', (network: Network) => {
  async function start(options: Omit<PlatformHarnessOptions, 'network'> = {}): Promise<PlatformHarness> {
    harness = await startContractHarness(db, { network, policy: AUTO, ...options });
    return harness;
  }

  it('follows back every new follower within the promise, with one follow call each', async () => {
    // Prepare
    const h = await start();
    await h.runFor(HOUR);
    const newcomers = await h.graph.gainFollowers(8);

    // Act
    await h.runFor(4 * DAY);

    // Assess
    for (const id of newcomers) {
      const task = await taskOf(h, id);
      expect(task?.state).toBe('done');
      expect(task!.doneAt!).toBeLessThanOrEqual(task!.deadline!);
      expect(await h.graph.isFollowing(id)).toBe(true);
      expect(h.graph.followCalls(id)).toEqual(['followed']);
    }
    expect(h.graph.totals().rateLimited).toBe(0);
  });

  it('asks a locked account to follow, where the network has them, and follows it where not', async () => {
    // Prepare
    const h = await start();
    await h.runFor(HOUR);
    const [locked] = await h.graph.gainFollowers(1, { protected: true });

    // Act
    await h.runFor(4 * DAY);

    // Assess
    const task = await taskOf(h, locked!);
    if (h.capabilities.locks) {
      expect(task?.state).toBe('requested');
      expect((await h.graph.isPending(locked!)) || (await h.graph.isFollowing(locked!))).toBe(true);
      expect(h.graph.followCalls(locked!)).toEqual(['pending']);
    } else {
      expect(task?.state).toBe('done');
      expect(await h.graph.isFollowing(locked!)).toBe(true);
      expect(h.graph.followCalls(locked!)).toEqual(['followed']);
    }
  });

  it('does not follow a follower whose account was deleted before the follow-back', async () => {
    // Prepare: the follower is found and scheduled, then deletes the account
    const h = await start();
    await h.runFor(HOUR);
    const [leaver] = await h.graph.gainFollowers(1);
    for (let i = 0; i < 40 && (await taskOf(h, leaver!))?.state !== 'scheduled'; i += 1) {
      h.clock.advance(15 * MINUTE);
      await h.tick();
    }
    expect((await taskOf(h, leaver!))?.state).toBe('scheduled');
    await h.graph.deleteUser(leaver!);

    // Act
    await h.runFor(4 * DAY);

    // Assess: a final state and no follow. X learns it from the follow call (404: gone); the open
    // networks from the relationship lookup before it (no longer a follower: skipped).
    const task = await taskOf(h, leaver!);
    expect(await h.graph.isFollowing(leaver!)).toBe(false);
    if (h.capabilities.relationships) {
      expect(task?.state).toBe('skipped');
      expect(task?.skipReason).toBe('left_before_followback');
      expect(h.graph.followCalls(leaver!)).toEqual([]);
    } else {
      expect(task?.state).toBe('gone');
      expect(h.graph.followCalls(leaver!)).toEqual(['not_found']);
    }
  });

  it('skips accounts marked as bots and bios that say #nobot, where the network shows them', async () => {
    // Prepare
    const h = await start();
    await h.runFor(HOUR);
    const [bot] = await h.graph.gainFollowers(1, { bot: true });
    const [noBot] = await h.graph.gainFollowers(1, { noBot: true });

    // Act
    await h.runFor(4 * DAY);

    // Assess
    for (const [id, shown] of [
      [bot!, h.capabilities.botFlag],
      [noBot!, h.capabilities.noBotBio],
    ] as const) {
      const task = await taskOf(h, id);
      if (shown) {
        expect(task?.state).toBe('skipped');
        expect(task?.skipReason).toBe('bot_or_nobot');
        expect(h.graph.followCalls(id)).toEqual([]);
      } else {
        expect(task?.state).toBe('done');
      }
    }
  });

  it('never follows anyone twice under duplicate deliveries, concurrent workers and lost answers', async () => {
    // Prepare: the first three follow answers are lost after the follow took effect
    const h = await start();
    await h.runFor(HOUR);
    const newcomers = await h.graph.gainFollowers(10);
    h.fault({ endpoint: 'follow', kind: '500', times: 3, apply: true });

    // Act: every tick is delivered to two workers at once, and again a moment later
    for (let i = 0; i < 4 * 96; i += 1) {
      h.clock.advance(15 * MINUTE);
      await Promise.all([h.tick({ worker: 'a' }), h.tick({ worker: 'b' })]);
      h.clock.advance(1_000);
      await h.tick({ worker: 'c' });
    }

    // Assess: each is followed, by exactly one successful follow; the open networks look before they
    // follow, so a lost answer does not even cost a second call
    for (const id of newcomers) {
      expect((await taskOf(h, id))?.state).toBe('done');
      expect(await h.graph.isFollowing(id)).toBe(true);
      expect(h.graph.followCalls(id).filter((outcome) => outcome === 'followed')).toHaveLength(1);
    }
    expect(h.graph.totals().faults).toBe(3);
    if (h.capabilities.relationships) expect(h.graph.totals().duplicateFollowCalls).toBe(0);
  });

  it('stops at a 429 on follow until the platform’s reset, then carries on', async () => {
    // Prepare
    const h = await start();
    await h.runFor(HOUR);
    const newcomers = await h.graph.gainFollowers(3);
    h.fault({ endpoint: 'follow', kind: '429', times: 1 });

    // Act
    const stops: { at: number; until: number | undefined }[] = [];
    for (let i = 0; i < 4 * 96; i += 1) {
      h.clock.advance(15 * MINUTE);
      const report = await h.tick();
      if (report.ran && report.act.stopped?.reason === 'rate_limited') {
        stops.push({ at: h.clock.now(), until: report.act.stopped.until });
      }
    }

    // Assess: one stop, until the reset of the platform's window (at most an hour on any of them),
    // and everyone followed in the end
    expect(stops).toHaveLength(1);
    expect(stops[0]!.until).toBeGreaterThan(stops[0]!.at);
    expect(stops[0]!.until).toBeLessThanOrEqual(stops[0]!.at + HOUR);
    for (const id of newcomers) expect(await h.graph.isFollowing(id)).toBe(true);
  });
});
