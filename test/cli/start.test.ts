import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/followback.mjs');
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function followback(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [bin, ...args], {
    timeout: 60_000,
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
}

describe('followback start', () => {
  it('runs the demo on embedded defaults and continues from the persisted state on the next run', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'followback-start-'));

    // Act
    const first = await followback('start', '--days', '1', '--dir', dir);
    const second = await followback('start', '--days', '1', '--dir', dir, '--json');

    // Assess: a day of progress on three networks, then a second run that picks up the next day
    expect(first.stdout).toContain('new local run');
    expect(first.stdout).toMatch(/sandboxes: X at http:\/\/127\.0\.0\.1:\d+, Bluesky at .*, Mastodon at /);
    expect(first.stdout).toContain(
      '@bakery-bsky.bsky.social on bluesky, @bakery_masto@sandbox.social on mastodon',
    );
    expect(first.stdout).toMatch(/^\s+1\s+2026-11-02\s+3,4\d\d\s+\+\d+/m);
    expect(first.stdout).toMatch(/follow-backs: \d+ made/);
    expect(first.stdout).toMatch(/^ {2}X +2 accounts +2,1\d\d followers +\+\d+ new +\d+ follow-backs?$/m);
    expect(first.stdout).toMatch(
      /^ {2}Bluesky +1 account +8\d\d followers +\+\d+ new +[1-9]\d* follow-backs?$/m,
    );
    expect(first.stdout).toMatch(
      /^ {2}Mastodon +1 account +5\d\d followers +\+\d+ new +[1-9]\d* follow-backs?$/m,
    );
    const summary = JSON.parse(second.stdout.trim().split('\n').at(-1)!);
    expect(summary.days).toBe(1);
    expect(summary.perDay).toHaveLength(1);
    expect(summary.perDay[0]).toMatchObject({ day: 1, newFollowers: expect.any(Number) });
    expect(summary.digest).toMatchObject({
      html: expect.stringContaining('outbox'),
      eml: expect.any(String),
    });
    expect(Math.round(summary.usdSpent * 100) / 100).toBe(summary.usdSpent);
    expect(summary.followers).toBeGreaterThan(3_400);
    expect(summary.followedBack).toBeGreaterThan(0);
    expect(summary.requests).toBeGreaterThan(0);
    expect(Object.keys(summary.networks)).toEqual(['x', 'bluesky', 'mastodon']);
    for (const network of ['x', 'bluesky', 'mastodon']) {
      expect(summary.networks[network].newFollowers, network).toBeGreaterThan(0);
      expect(summary.networks[network].followedBack, network).toBeGreaterThan(0);
    }
    expect(summary.networks.bluesky.followers).toBeGreaterThan(800);
    // The world's truth counts the Bluesky and Mastodon owners too (by their world ids, not DIDs).
    expect(summary.actualNewFollowers).toBeGreaterThanOrEqual(summary.newFollowers * 0.8);
    expect(`${first.stderr}${second.stderr}`).not.toMatch(/sbx-|eyJ[A-Za-z0-9_-]{10,}\./);
  }, 90_000);

  it('shows every account of the demo client side by side in the digest, each with its network', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'followback-start-'));

    // Act
    const { stdout } = await followback('start', '--days', '2', '--dir', dir);

    // Assess
    const htmlPath = /is in the outbox: (\S+\.html)/.exec(stdout)?.[1];
    expect(htmlPath).toBeDefined();
    const text = (await readFile(htmlPath!, 'utf8'))
      .replace(/<style[\s\S]*?<\/style>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ');
    for (const heading of [
      'X · @demobakery',
      'X · @demochef',
      'Bluesky · @bakery-bsky.bsky.social',
      'Mastodon · @bakery_masto@sandbox.social',
    ]) {
      expect(text).toContain(heading);
    }
  }, 90_000);

  it('names a bad option instead of running', async () => {
    // Act
    const failure = await followback('start', '--days', 'soon').catch(
      (error: { code: number; stderr: string }) => error,
    );

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('--days must be a whole number');
  });
});
