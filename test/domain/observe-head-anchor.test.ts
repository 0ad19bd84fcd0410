import { describe, expect, it } from 'vitest';
import {
  type AnchorMeeting,
  anchorMembersMovedUp,
  endsScan,
  HEAD_ANCHOR_SIZE,
  leadingReadToday,
  mergeAnchor,
} from '../../shared/domain/observe/head-anchor.ts';
import type { PlatformUser } from '../../shared/domain/platform-user.ts';

const KNOWN_RUN = 5;

function user(id: string): PlatformUser {
  return { id, handle: id, name: id, bio: '', protected: false };
}

function meetings(positions: readonly number[], candidatesBefore = 0): AnchorMeeting[] {
  return positions.map((position) => ({ user: user(`a${position}`), position, candidatesBefore }));
}

describe('the run of known followers that ends a head scan', () => {
  it('ends at the top of the anchor, met in its order', () => {
    expect(endsScan(KNOWN_RUN, [0, 1, 2, 3, 4], KNOWN_RUN)).toBe(true);
  });

  it('goes on while the run is shorter than the known run', () => {
    expect(endsScan(KNOWN_RUN - 1, [0, 1, 2, 3], KNOWN_RUN)).toBe(false);
  });

  it('goes on past anchor members met out of their order (a wave that came back)', () => {
    expect(endsScan(KNOWN_RUN, [4, 3, 2, 1, 0], KNOWN_RUN)).toBe(false);
  });

  it('goes on past anchor members scattered through the anchor', () => {
    expect(endsScan(KNOWN_RUN, [0, 10, 20, 30, 40], KNOWN_RUN)).toBe(false);
  });

  it('goes on past a block deep in the anchor, beyond order noise', () => {
    expect(endsScan(KNOWN_RUN, [50, 51, 52, 53, 54], KNOWN_RUN)).toBe(false);
  });

  it('ends, whatever the anchor says, once the run is longer than an anchor', () => {
    expect(endsScan(HEAD_ANCHOR_SIZE + KNOWN_RUN, [9, 8, 7, 6, 5], KNOWN_RUN)).toBe(true);
  });

  it('ends without an anchor once the run is as long as the known run (positions are its count)', () => {
    expect(endsScan(KNOWN_RUN, [1, 2, 3, 4, 5], KNOWN_RUN)).toBe(true);
  });
});

describe('anchor members that moved up', () => {
  it('names none when the anchor is met in its order', () => {
    expect(anchorMembersMovedUp(meetings([0, 1, 2, 3, 4]), 0, KNOWN_RUN)).toEqual([]);
  });

  it('names a member listed far above members newer than it', () => {
    const moved = anchorMembersMovedUp(meetings([40, 0, 1, 2, 3, 4]), 0, KNOWN_RUN);
    expect(moved.map((member) => member.id)).toEqual(['a40']);
  });

  it('forgives a member a few places out of order (list-order noise)', () => {
    expect(anchorMembersMovedUp(meetings([2, 0, 1, 3, 4, 5]), 0, KNOWN_RUN)).toEqual([]);
  });

  it('names a member met inside a re-follow wave (re-follows listed below it)', () => {
    const met: AnchorMeeting[] = [
      { user: user('inWave'), position: 3, candidatesBefore: 0 },
      ...meetings([0, 1, 2, 4, 5], 5),
    ];
    expect(anchorMembersMovedUp(met, 5, KNOWN_RUN).map((member) => member.id)).toContain('inWave');
  });

  it('names a member above the block that ended the scan though older than it', () => {
    const moved = anchorMembersMovedUp(meetings([9, 0, 1, 2, 3, 4]), 0, KNOWN_RUN);
    expect(moved.map((member) => member.id)).toEqual(['a9']);
  });
});

describe('the anchor a head scan leaves', () => {
  it('keeps the newest ids read, then the older anchor below them', () => {
    expect(mergeAnchor(['n1', 'n2'], ['o1', 'o2'], [{ position: 0 }])).toEqual(['n1', 'n2', 'o1', 'o2']);
  });

  it('drops an older member the scan should have met and did not', () => {
    const previous = Array.from({ length: 30 }, (_, index) => `o${index}`);
    const anchor = mergeAnchor(['n1'], previous, [{ position: 25 }]);
    expect(anchor).not.toContain('o0');
    expect(anchor).toContain('o15');
  });

  it('holds no more than an anchor holds, and no id twice', () => {
    const newest = Array.from({ length: HEAD_ANCHOR_SIZE - 1 }, (_, index) => `n${index}`);
    const anchor = mergeAnchor(newest, ['n0', 'o1', 'o2'], []);
    expect(anchor).toHaveLength(HEAD_ANCHOR_SIZE);
    expect(anchor.at(-1)).toBe('o1');
  });
});

describe('the anchor members read today', () => {
  it('counts the leading members read today, up to the first that was not', () => {
    expect(leadingReadToday(['a', 'b', 'c', 'd'], new Set(['a', 'b', 'd']))).toBe(2);
  });

  it('counts the whole anchor when all of it was read today', () => {
    expect(leadingReadToday(['a', 'b'], new Set(['a', 'b']))).toBe(2);
  });

  it('counts none when the newest member was not read today', () => {
    expect(leadingReadToday(['a', 'b'], new Set(['b']))).toBe(0);
  });
});
