/**
 * The baseline observe design: read the whole follower list every tick (15 minutes) and diff it
 * against the previous read. Exact and quick to notice, and its cost follows the account's size.
 * Same world, same sandbox, same X adapter as the head-scan design; nothing is stored.
 */

import { diffSorted, formatIds, parseIds, sortUnique } from '../../shared/domain/idset/index.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import { TICK_MS } from '../../shared/runtime/simulate.ts';
import { Detections } from './detection.ts';
import { type AccountProfile, startWorld, type WorldSetup } from './worlds.ts';

const HOUR = 3_600_000;

export interface NaiveRun {
  setup: WorldSetup;
  from: number;
  to: number;
  detections: Detections;
  usersRead: number;
  requests: number;
  scans: number;
  wallMs: number;
}

/** One full read of the follower list, 1,000 a page (X's largest). */
async function readAllFollowers(
  platform: Platform,
  userId: string,
): Promise<{ ids: BigUint64Array; users: number; requests: number }> {
  const strings: string[] = [];
  let cursor: string | undefined;
  let requests = 0;
  do {
    const page = await platform.listFollowers(userId, { cursor, pageSize: platform.limits.maxPageSize });
    requests += 1;
    for (const user of page.users) strings.push(user.id);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { ids: sortUnique(parseIds(strings)), users: strings.length, requests };
}

/** Full scans every 15 virtual minutes for `hours` after a first (baseline) scan, which is not counted. */
export async function runNaiveScans(profile: AccountProfile, hours: number): Promise<NaiveRun> {
  const setup = await startWorld(profile);
  const { clock, owner, platform } = setup;
  try {
    const started = performance.now();
    const from = clock.now();
    const to = from + hours * HOUR;
    let previous = (await readAllFollowers(platform, owner.id)).ids;
    const detections = new Detections();
    let usersRead = 0;
    let requests = 0;
    let scans = 0;
    for (let at = from + TICK_MS; at <= to; at += TICK_MS) {
      clock.set(at);
      const scan = await readAllFollowers(platform, owner.id);
      usersRead += scan.users;
      requests += scan.requests;
      scans += 1;
      detections.record(formatIds(diffSorted(previous, scan.ids).added), at);
      previous = scan.ids;
    }
    return { setup, from, to, detections, usersRead, requests, scans, wallMs: performance.now() - started };
  } finally {
    await setup.close();
  }
}
