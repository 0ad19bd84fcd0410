import type { GraphPointer } from '../account-state.ts';

/**
 * When a list's base snapshot is rewritten, pure. Every reader of a list (each head scan, act's
 * "still follows") replays the changesets since its base: a new base keeps that replay short and
 * keeps the base clear of the changesets' expiry.
 */

/** Once a list's changesets outweigh this share of its base, the next full scan writes a new base. */
const REBASE_RATIO = 0.25;
/** Changesets a base may carry before a head scan writes a new one (~weekly at 6 h). */
const REBASE_AFTER_CHANGESETS = 30;
/** A base older than this is rewritten while the changesets on top are far from expiring (120 days). */
const REBASE_AFTER_MS = 30 * 24 * 3_600_000;

/**
 * Whether a complete head scan writes a new followers base at `seq`: the changesets piled up on the
 * base, or the base is getting old under changesets.
 */
export function headScanRebaseDue(pointer: GraphPointer, seq: number, now: number): boolean {
  const pileUp = seq - pointer.baseSeq > REBASE_AFTER_CHANGESETS;
  const aging = seq > pointer.baseSeq && now - (pointer.baseAt ?? 0) > REBASE_AFTER_MS;
  return pointer.baseSeq > 0 && (pileUp || aging);
}

/**
 * Whether a finished full scan writes a new base: the list's first complete snapshot, no base yet, or
 * changesets since the base (`deltaBytes`, this scan's included) that outweigh a share of the base.
 */
export function fullScanRebaseDue(input: {
  pointer: GraphPointer;
  firstComplete: boolean;
  deltaBytes: number;
  bytesPerId: number;
}): boolean {
  const { pointer, firstComplete, deltaBytes, bytesPerId } = input;
  return firstComplete || pointer.baseSeq === 0 || deltaBytes > REBASE_RATIO * bytesPerId * pointer.count;
}
