import { afterEach, describe, expect, it } from 'vitest';
import { createScheduledTask } from '../../shared/domain/engine/task.ts';
import {
  type AccountHarness,
  AUTO_POLICY,
  DAY,
  HOUR,
  MINUTE,
  startAccountHarness,
} from '../support/account-harness.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: AccountHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('promises at risk', () => {
  it('reports the open promises a tick can no longer keep, so the alarm can say so', async () => {
    // Prepare: a settled auto-mode account, then 80 follow-backs whose deadline passed a day ago
    const h = await startAccountHarness(db, { policy: AUTO_POLICY });
    harness = h;
    for (let i = 0; i < 4; i += 1) {
      await h.tick();
      h.clock.advance(15 * MINUTE);
    }
    const now = h.clock.now();
    const followers = h.world.followerIds(h.owner.id).slice(0, 80);
    for (const targetId of followers) {
      await h.store.createTask(
        h.account,
        createScheduledTask(
          {
            targetId,
            detectedAt: now - 4 * DAY,
            profile: { handle: targetId, name: '', bio: '', protected: false },
          },
          { windowStart: now - 4 * DAY + 2 * HOUR, dueAt: now - 3 * DAY, deadline: now - DAY },
        ),
      );
    }

    // Act: the next tick that is due (tasks written here wake nothing; an hour brings a head scan)
    h.clock.advance(HOUR);
    const report = await h.tick();

    // Assess: every late one it read is counted at risk, whatever it managed to follow this tick
    if (!report.ran) throw new Error(`tick did not run: ${report.reason}`);
    expect(report.act.promisesAtRisk).toBe(80);
    expect(report.act.followed).toBeLessThan(80);
  });
});
