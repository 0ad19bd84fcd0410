import { describe, expect, it } from 'vitest';
import type { GraphPointer } from '../../shared/domain/account-state.ts';
import { fullScanRebaseDue, headScanRebaseDue } from '../../shared/domain/observe/rebase-policy.ts';

const NOW = Date.UTC(2026, 3, 1);
const DAY = 24 * 3_600_000;
const base: GraphPointer = { baseSeq: 10, baseChunks: 2, baseAt: NOW - DAY, count: 10_000, complete: true };

describe('a new base after a head scan', () => {
  it('is not due for a few changesets on a young base', () => {
    expect(headScanRebaseDue(base, 15, NOW)).toBe(false);
  });

  it('is due once the changesets pile up on the base', () => {
    expect(headScanRebaseDue(base, 41, NOW)).toBe(true);
  });

  it('is due once the base is a month old under changesets', () => {
    expect(headScanRebaseDue({ ...base, baseAt: NOW - 31 * DAY }, 11, NOW)).toBe(true);
  });

  it('is not due for an old base with nothing on top', () => {
    expect(headScanRebaseDue({ ...base, baseAt: NOW - 31 * DAY }, 10, NOW)).toBe(false);
  });

  it('is never written by a head scan where no base exists', () => {
    expect(headScanRebaseDue({ ...base, baseSeq: 0 }, 100, NOW)).toBe(false);
  });
});

describe('a new base after a full scan', () => {
  it('is due for the list first scanned whole', () => {
    expect(fullScanRebaseDue({ pointer: base, firstComplete: true, deltaBytes: 0, bytesPerId: 5 })).toBe(
      true,
    );
  });

  it('is not due while the changesets weigh less than a quarter of the base', () => {
    expect(
      fullScanRebaseDue({ pointer: base, firstComplete: false, deltaBytes: 12_000, bytesPerId: 5 }),
    ).toBe(false);
  });

  it('is due once the changesets weigh more than a quarter of the base', () => {
    expect(
      fullScanRebaseDue({ pointer: base, firstComplete: false, deltaBytes: 12_600, bytesPerId: 5 }),
    ).toBe(true);
  });
});
