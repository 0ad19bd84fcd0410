import { describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { numericIdCodec } from '../../shared/domain/idset/index.ts';
import { HEAD_ANCHOR_GIVE_UP } from '../../shared/domain/observe/head-anchor.ts';
import { HeadWalk, type HeadWalkStart } from '../../shared/domain/observe/head-walk.ts';
import type { PlatformUser } from '../../shared/domain/platform-user.ts';

const x = resolveObserveSettings('x');
const KNOWN_RUN = x.headScanKnownRun;
const OVERLAP = 4;
const codec = numericIdCodec;

function users(ids: readonly (number | string)[]): PlatformUser[] {
  return ids.map((id) => ({ id: String(id), handle: `h${id}`, name: `n${id}`, bio: '', protected: false }));
}

/** Known followers 1..200; the anchor their newest 100 (1 newest). */
function walk(overrides: Partial<HeadWalkStart> = {}): HeadWalk {
  const known = Array.from({ length: 200 }, (_, index) => String(index + 1));
  return new HeadWalk({
    codec,
    known: codec.fromStrings(known),
    foundEarlier: codec.empty(),
    anchorIds: known.slice(0, 100),
    knownRun: KNOWN_RUN,
    overlap: OVERLAP,
    ...overrides,
  });
}

describe('a head scan walking the newest followers', () => {
  it('finds the new followers above the known block and stops at a run of the anchor', () => {
    const head = walk();
    const { fresh } = head.takePage({ users: users([901, 902, 1, 2, 3]), nextCursor: 'next' });
    expect(fresh).toBe(2);
    expect([...head.found.keys()]).toEqual(['901', '902']);
    expect(head.finished).toBe(true);
    expect(head.overlapLeft).toBe(OVERLAP);
  });

  it('reads the overlap below the run, and as deep again below a new follower found there', () => {
    const head = walk();
    head.takePage({ users: users([1, 2, 3]), nextCursor: 'next' });
    expect(head.nextPageSize({ size: 3, fresh: 0 }, 0, x, 1_000)).toBe(OVERLAP);
    head.takePage({ users: users([4, 903, 5, 6, 7]), nextCursor: 'next' });
    expect([...head.found.keys()]).toEqual(['903']);
    expect(head.orderDepth).toBe(KNOWN_RUN + 1);
    expect(head.wantsMore).toBe(true);
  });

  it('stops at the end of the list, with no overlap to read', () => {
    const head = walk();
    head.takePage({ users: users([904]) });
    expect(head.finished).toBe(true);
    expect(head.wantsMore).toBe(false);
  });

  it('goes on past followers an interrupted part already committed, without finding them again', () => {
    const head = walk({ foundEarlier: codec.fromStrings(['1', '2', '3']) });
    head.takePage({ users: users([1, 2, 3]), nextCursor: 'next' });
    expect(head.finished).toBe(false);
    expect(head.found.size).toBe(0);
  });

  it('confirms a known follower listed above the anchor as a re-follow', () => {
    const head = walk();
    head.takePage({ users: users([150, 1, 2, 3]), nextCursor: 'next' });
    head.takePage({ users: users([4, 5, 6, 7]), nextCursor: 'next' });
    const refollows = head.confirmRefollows();
    expect(refollows.ids).toEqual(['150']);
    expect(refollows.profiles.map((profile) => profile.id)).toEqual(['150']);
  });

  it('confirms no re-follow when the list ends before any anchor member', () => {
    const head = walk();
    head.takePage({ users: users([150, 160]) });
    expect(head.confirmRefollows().ids).toEqual([]);
  });

  it('gives the anchor up after that many known followers without one of its members', () => {
    const old = Array.from({ length: HEAD_ANCHOR_GIVE_UP + 1 }, (_, index) => String(10_000 + index));
    const head = walk({ known: codec.fromStrings(old), anchorIds: ['1', '2', '3'] });
    const { anchorGaveUpAfter } = head.takePage({ users: users(old), nextCursor: 'next' });
    expect(anchorGaveUpAfter).toBe(100);
    expect(head.anchorGone).toBe(true);
    expect(head.refollowCandidates.size).toBe(0);
  });

  it('refuses a page with a malformed id before using any of its users', () => {
    const head = walk();
    expect(() => head.takePage({ users: users([905, 'not-an-id']), nextCursor: 'next' })).toThrow(
      ValidationError,
    );
    expect(head.found.size).toBe(0);
  });

  it('asks for the run and the overlap on the first page of a quiet account', () => {
    expect(walk().firstPageSize(0, x, 1_000)).toBe(KNOWN_RUN + OVERLAP);
  });
});
