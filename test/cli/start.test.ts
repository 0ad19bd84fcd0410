import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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

    // Assess: a day of progress, then a second run that picks up the next day
    expect(first.stdout).toContain('new local run');
    expect(first.stdout).toMatch(/^\s+1\s+2026-11-02\s+2,1\d\d\s+\+\d+/m);
    expect(first.stdout).toMatch(/follow-backs: \d+ made/);
    const summary = JSON.parse(second.stdout.trim().split('\n').at(-1)!);
    expect(summary.days).toBe(1);
    expect(summary.followers).toBeGreaterThan(2_100);
    expect(summary.followedBack).toBeGreaterThan(0);
    expect(summary.requests).toBeGreaterThan(0);
    expect(`${first.stderr}${second.stderr}`).not.toMatch(/sbx-/);
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
