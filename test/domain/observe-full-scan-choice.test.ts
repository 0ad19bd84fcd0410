import { describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import { emptyObserveState, type ObserveState } from '../../shared/domain/account-state.ts';
import { countsSayChanged, fullScanToStart } from '../../shared/domain/observe/full-scan-choice.ts';

const x = resolveObserveSettings('x', { readBudgetUsdPerMonth: 100 });
const bluesky = resolveObserveSettings('bluesky');
const NOW = Date.UTC(2026, 0, 5, 12);
const DAY = 24 * 3_600_000;

/** An X account whose lists were scanned whole `daysAgo`, with the counts the owner last reported. */
function scanned(
  followers: number,
  counts: { followers: number; following: number },
  daysAgo = 10,
  following = 500,
): ObserveState {
  const state = emptyObserveState();
  const at = NOW - daysAgo * DAY;
  return {
    ...state,
    graphs: {
      followers: { baseSeq: 1, baseChunks: 1, count: followers, complete: true, lastFullScanAt: at },
      following: {
        baseSeq: 2,
        baseChunks: 1,
        count: following,
        complete: true,
        lastFullScanAt: at - DAY,
        followersAtScan: followers,
      },
    },
    owner: { ...counts, at: NOW },
  };
}

describe('whether the counts say a list changed', () => {
  it('says so for a list never scanned whole', () => {
    expect(countsSayChanged(emptyObserveState(), 'followers', x)).toBe(true);
  });

  it('always says so where reads are free', () => {
    expect(countsSayChanged(scanned(5_000, { followers: 5_000, following: 500 }), 'followers', bluesky)).toBe(
      true,
    );
  });

  it('says no for a dear followers list that lost fewer than a share of its followers', () => {
    expect(countsSayChanged(scanned(5_000, { followers: 4_990, following: 500 }), 'followers', x)).toBe(
      false,
    );
  });

  it('says so once the followers the counts lost outnumber the share', () => {
    expect(countsSayChanged(scanned(5_000, { followers: 4_700, following: 500 }), 'followers', x)).toBe(true);
  });

  it('says so for the following list once the owner follows fewer than the snapshot holds', () => {
    expect(countsSayChanged(scanned(5_000, { followers: 5_000, following: 499 }), 'following', x)).toBe(true);
  });

  it('says so for a list cheaper than a tenth of the month budget, counts or not', () => {
    expect(countsSayChanged(scanned(500, { followers: 500, following: 500 }), 'followers', x)).toBe(true);
  });
});

describe('which list a full scan reads next', () => {
  it('picks the list scanned longest ago among those due', () => {
    expect(fullScanToStart(scanned(500, { followers: 500, following: 400 }), x, 1_000, NOW)).toBe(
      'following',
    );
  });

  it('picks none when the counts say nothing changed', () => {
    expect(
      fullScanToStart(scanned(5_000, { followers: 5_000, following: 5_000 }, 10, 5_000), x, 1_000, NOW),
    ).toBeUndefined();
  });

  it('picks none before the list is due again', () => {
    expect(
      fullScanToStart(scanned(500, { followers: 500, following: 500 }, 1), x, 1_000, NOW),
    ).toBeUndefined();
  });
});
