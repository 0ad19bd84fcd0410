import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../shared/adapters/memory/memory-store.ts';
import { followerCheck } from '../../shared/app/engine/still-follows.ts';
import { StateCell } from '../../shared/app/state-cell.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { chunkBytes, numericIdCodec } from '../../shared/domain/idset/index.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import type { Changeset } from '../../shared/ports/store.ts';

const t0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const ids = numericIdCodec;
const ref = { clientId: 'shop', accountId: 'x-main' };
const account = { ...ref, network: 'x', platformUserId: '1' } as AccountRecord;
const x = { network: 'x' } as Platform;

function encode(list: string[]): Uint8Array {
  return ids.encode(ids.fromStrings(list));
}

function head(seq: number, at: number, added: string[]): Changeset {
  return {
    seq,
    at,
    kind: 'followers',
    source: 'head',
    added: encode(added),
    removed: encode([]),
    addedCount: added.length,
    removedCount: 0,
    profiles: added.map((id) => ({
      id,
      handle: `u${id}`,
      name: 'N',
      bio: 'a long bio '.repeat(20),
      protected: false,
    })),
  };
}

/** An X account's base of 1,000 followers, then `heads` head scans of 20 new ones each, then `full`. */
async function xAccount(
  heads: number,
  full?: { at: number; removed: string[]; added?: string[] },
  options: { marksSince?: number | undefined; marksLost?: boolean } = { marksSince: t0 - HOUR },
) {
  const store = new MemoryStore();
  const base = Array.from({ length: 1_000 }, (_, i) => String(10_000 + i));
  await store.putBaseChunks(ref, 'followers', 1, chunkBytes(encode(base)));
  await store.putChangeset(ref, { ...head(1, t0, []), source: 'baseline' });
  let seq = 1;
  for (let i = 0; i < heads; i += 1) {
    seq += 1;
    await store.putChangeset(
      ref,
      head(
        seq,
        t0 + seq * HOUR,
        Array.from({ length: 20 }, (_, j) => String(100_000 + seq * 100 + j)),
      ),
    );
  }
  if (full) {
    seq += 1;
    await store.putChangeset(ref, {
      ...head(seq, full.at, full.added ?? []),
      source: 'full',
      removed: encode(full.removed),
      removedCount: full.removed.length,
    });
  }
  const observe = emptyObserveState();
  observe.seq = seq;
  observe.removalMarksSince = options.marksSince;
  observe.graphs.followers = { baseSeq: 1, baseChunks: 1, count: 1_000 + 20 * heads, complete: true };
  const reads = { changesets: 0, base: 0 };
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === 'getChangesets') reads.changesets += 1;
        if (name === 'getBaseChunks') reads.base += 1;
        // Changesets written before removal marks were kept have none.
        if (name === 'getRemovalMarks' && options.marksLost) return Promise.resolve([]);
        return value.apply(target, args);
      };
    },
  });
  const cell = new StateCell(store, ref, { observe }, 1, 0);
  return { check: followerCheck(account, cell, { platform: x, store: counted }), reads };
}

describe('the "still follows" check on X', () => {
  it('answers from the removal marks without replaying the list when nobody left since', async () => {
    // Prepare: thirty head scans since the base, no removal
    const { check, reads } = await xAccount(30);

    // Act
    const answers = await Promise.all(
      ['100300', '102900', '10005'].map((targetId) => check({ targetId, detectedAt: t0 + 3 * HOUR })),
    );

    // Assess
    expect(answers).toEqual([true, true, true]);
    expect(reads).toEqual({ changesets: 0, base: 0 });
  });

  it('says a follower removed by a full scan after their detection no longer follows', async () => {
    // Prepare: detected at the 3rd head scan, removed by the full scan at the end
    const { check } = await xAccount(5, { at: t0 + 40 * HOUR, removed: ['100300'] });

    // Act
    const left = await check({ targetId: '100300', detectedAt: t0 + 3 * HOUR });
    const stayed = await check({ targetId: '100301', detectedAt: t0 + 3 * HOUR });

    // Assess
    expect(left).toBe(false);
    expect(stayed).toBe(true);
  });

  it('ignores a removal older than the detection (they followed again since)', async () => {
    // Prepare: removed by a full scan, then detected again by a later head scan
    const { check } = await xAccount(0, { at: t0 + HOUR, removed: ['100300'], added: [] });

    // Act
    const again = await check({ targetId: '100300', detectedAt: t0 + 2 * HOUR });

    // Assess
    expect(again).toBe(true);
  });

  it('replays the list only for a target a removal after their detection names', async () => {
    // Prepare: a full-scan diff removed a follower of the base after their detection
    const { check, reads } = await xAccount(2, { at: t0 + 10 * HOUR, removed: ['10005'] });

    // Act
    const answer = await check({ targetId: '10005', detectedAt: t0 });

    // Assess
    expect(answer).toBe(false);
    expect(reads.changesets).toBe(1);
  });

  it('replays the list for an account observed before removal marks were kept', async () => {
    // Prepare: the full scan that removed them was written by a version that kept no marks
    const { check } = await xAccount(
      5,
      { at: t0 + 40 * HOUR, removed: ['100300'] },
      { marksSince: undefined, marksLost: true },
    );

    // Act
    const left = await check({ targetId: '100300', detectedAt: t0 + 3 * HOUR });

    // Assess
    expect(left).toBe(false);
  });

  it('replays the list for a task detected before the marks began', async () => {
    // Prepare: marks are kept since after the detection; the removal's own mark is missing
    const { check } = await xAccount(
      5,
      { at: t0 + 40 * HOUR, removed: ['100300'] },
      { marksSince: t0 + 41 * HOUR, marksLost: true },
    );

    // Act
    const left = await check({ targetId: '100300', detectedAt: t0 + 3 * HOUR });

    // Assess
    expect(left).toBe(false);
  });
});
