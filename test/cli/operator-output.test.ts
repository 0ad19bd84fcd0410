/**
 * Human output an operator reads: times in the account's zone (never UTC ISO with milliseconds),
 * thousands separators, X's read spend, nouns that agree with their counts, tables that stay
 * aligned however long an id is; `--version`; LOG_LEVEL refused when it is no level; the real-time
 * demo's tick lines and its summary after Ctrl-C; a screenshot of one client's digest.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../../shared/domain/account.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { createScheduledTask } from '../../shared/domain/engine/task.ts';
import { dayKey, monthKey } from '../../shared/domain/observe-plan.ts';
import { followback, local, seedLocalStore } from './support.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-output-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const LONG_ID = `x-${'very-long-account-name-'.repeat(3)}end`;

/** A Berlin client with an X account: 12,345 followers, one follow-back due, reads spent today. */
async function seedShop(now = Date.now()): Promise<void> {
  await seedLocalStore(dir, async (store) => {
    const client: ClientRecord = {
      clientId: 'acme',
      name: 'Acme',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@acme.example'],
      createdAt: now,
    };
    await store.putClient(client);
    const account = (accountId: string): AccountRecord => ({
      clientId: 'acme',
      accountId,
      network: 'x',
      platformUserId: '1441234567890123456789',
      handle: 'acmeshop',
      status: 'active',
      observe: resolveObserveSettings('x', {}),
      policy: { mode: 'approve', timeZone: client.timeZone },
      createdAt: now,
    });
    const shop = account('x-shop');
    await store.putAccount(shop);
    await store.putAccount({ ...account(LONG_ID), platformUserId: '1441234567890123456790' });
    const observe = emptyObserveState();
    observe.graphs.followers = { ...observe.graphs.followers, count: 12_345, complete: true };
    observe.spend = {
      ...observe.spend,
      day: dayKey(now),
      dayRequests: 1_234,
      dayUsers: 5_678,
      month: monthKey(now),
      monthUsd: 86.26000000000003,
    };
    await store.putState(shop, { observe }, 0);
    await store.createTask(
      shop,
      createScheduledTask(
        {
          targetId: '1001',
          detectedAt: now - HOUR,
          profile: {
            handle: 'anna',
            name: 'Anna',
            bio: '',
            followersCount: 3,
            followingCount: 4,
            protected: false,
          },
        },
        { windowStart: now, dueAt: now + 2 * HOUR + 123, deadline: now + 48 * HOUR },
      ),
    );
  });
}

describe('status for people', () => {
  it("shows times in the account's zone, counts with separators, and X's read spend", async () => {
    // Prepare
    await seedShop();

    // Act
    const status = await local(dir, 'status', '--client', 'acme', '--account', 'x-shop');

    // Assess
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('(active, mode approve; times in Europe/Berlin)');
    expect(status.stdout).toMatch(/^ {2}followers {10}12,345$/m);
    expect(status.stdout).toMatch(/next actions {7}@anna at \d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST)$/m);
    expect(status.stdout).toContain(
      'X reads            $86.26 this month of $25.00; today 1,234 of 2,000 requests, 5,678 users read',
    );
    expect(status.stdout).toContain('forecast           every open promise kept (1 on time)');
    expect(status.stdout).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d|\.\d{3}Z|86\.2600/);
  });

  it('keeps the account table aligned, cutting ids that are too long with an ellipsis', async () => {
    // Prepare
    await seedShop();

    // Act
    const listed = await local(dir, 'account', 'list');

    // Assess
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^account +network +handle +platform id +status +mode$/);
    const networkColumn = lines.slice(1).map((line) => line.indexOf(' X ') + 1);
    expect(networkColumn).toEqual([lines[0]!.indexOf('network'), lines[0]!.indexOf('network')]);
    expect(listed.stdout).toContain('acme/x-very-long-account-name-very-…  X ');
    expect(listed.stdout).not.toContain(LONG_ID);
  });
});

describe('client settings the digest cannot honour', () => {
  it('refuses a locale the digest does not speak, saying why', async () => {
    // Act
    const german = await local(
      dir,
      'client',
      'add',
      'acme',
      '--time-zone',
      'Europe/Berlin',
      '--locale',
      'de-DE',
    );

    // Assess
    expect(german.code).toBe(1);
    expect(german.stderr).toContain('locale: must be an English locale such as "en-GB"');
    expect(german.stderr).toContain('the digest is written in English only');
  });
});

describe('the command itself', () => {
  it('prints its version, and refuses a LOG_LEVEL that is no level before doing anything', async () => {
    // Prepare
    await seedShop();
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8'));

    // Act
    const printed = await followback(['--version']);
    const loud = await followback(['status', '--local', '--dir', dir], { LOG_LEVEL: 'loud' });
    const loudJson = await followback(['client', 'list', '--local', '--dir', dir, '--json'], {
      LOG_LEVEL: 'verbose',
    });

    // Assess
    expect(printed).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(loud.code).toBe(1);
    expect(loud.stderr).toContain('LOG_LEVEL: must be one of debug, info, warn, error');
    expect(loud.stdout).toBe('');
    expect(JSON.parse(loudJson.stdout)).toMatchObject({
      error: { name: 'ConfigError', message: expect.stringContaining('LOG_LEVEL') },
    });
  });
});

describe('the real-time demo', () => {
  it('says its real tick, prints a line per tick, and sums up what ran after Ctrl-C', async () => {
    // Prepare
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../../bin/followback.mjs'),
        'start',
        '--realtime',
        '--tick-seconds',
        '1',
        '--dir',
        dir,
      ],
      { env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));

    // Act: Ctrl-C after the third tick
    await expect
      .poll(() => (stdout.match(/^ {2}tick \d+ at /gm) ?? []).length, { timeout: 60_000, interval: 200 })
      .toBeGreaterThanOrEqual(3);
    child.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('running on the wall clock from');
    expect(stdout).toContain('a tick every 1 second (each moves the clock on by as much)');
    expect(stdout).not.toContain('a tick every 15 minutes');
    const tickLines =
      stdout.match(/^ {2}tick (\d+) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T: .* (\d+) requests?$/gm) ?? [];
    const ticks = Number(/stopped after (\d+) ticks?/.exec(stdout)?.[1]);
    expect(ticks).toBe(tickLines.length);
    const requests = tickLines.reduce((sum, line) => sum + Number(/(\d+) requests?$/.exec(line)?.[1]), 0);
    const dayRow = /^ +1\* +\d{4}-\d\d-\d\d +[\d,]+ +\+\d+ +-\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +(\d+)$/m.exec(
      stdout,
    );
    expect(Number(dayRow?.[1])).toBe(requests);
    expect(stdout).toContain(`, ${requests} requests,`);
    expect(stdout).toContain('* stopped part way through the day');
  }, 120_000);
});

describe('digest screenshot', () => {
  it("renders one client's digest to a PNG, and names a client that is not there", async () => {
    // Prepare
    await seedShop();

    // Act
    const shot = await local(dir, 'digest', 'screenshot', '--client', 'acme', '--json');
    const missing = await local(dir, 'digest', 'screenshot', '--client', 'nobody');

    // Assess
    expect(shot.code).toBe(0);
    const result = JSON.parse(shot.stdout) as { digest: string; html: string; source: string };
    expect(result.source).toBe('local');
    expect(result.html).toContain(join('outbox', 'acme'));
    const png = await readFile(result.digest);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(10_000);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no client nobody in the local store');
  }, 120_000);
});

describe('the digest of a client with nothing connected', () => {
  it('is one line saying what to do, not a week of zeros', async () => {
    // Prepare: a client whose only account was declared and never connected
    await seedLocalStore(dir, async (store) => {
      const now = Date.now();
      await store.putClient({
        clientId: 'fresh',
        name: 'Fresh Bakery',
        timeZone: 'Europe/Berlin',
        digestEmails: ['owner@fresh.example'],
        createdAt: now - 30 * 24 * HOUR,
      });
      await store.putAccount({
        clientId: 'fresh',
        accountId: 'x-fresh',
        network: 'x',
        platformUserId: 'unknown',
        handle: 'fresh',
        status: 'not_connected',
        observe: resolveObserveSettings('x', {}),
        policy: { timeZone: 'Europe/Berlin' },
        createdAt: now - 30 * 24 * HOUR,
      });
    });

    // Act
    const preview = await local(dir, 'digest', 'preview', '--client', 'fresh', '--json');

    // Assess
    expect(preview.code).toBe(0);
    const [result] = JSON.parse(preview.stdout) as { html: string; eml: string }[];
    const html = await readFile(result!.html, 'utf8');
    const eml = await readFile(result!.eml, 'utf8');
    expect(html).toContain('data-not-connected');
    expect(html).toContain('None of your accounts is connected yet, so there is nothing to report');
    expect(html).not.toMatch(/New followers|Follow-backs done|Promise kept/);
    expect(eml).toContain('None of your accounts is connected yet');
    expect(eml).not.toContain('Followers: 0');
  }, 60_000);
});
