/**
 * What only the real atproto stack can tell (npm run test:real): an owner seeded with followers of
 * every kind (no profile record, #nobot, deactivated, taken down, deleted), `connect bluesky`
 * through the CLI, the answers the sandbox mirrors (duplicate follow records, the AppView's lag,
 * rate-limit headers, bad cursors, sessions), and a few hundred ticks of the real tick.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AtpAgent } from '@atproto/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { TickReport } from '../../shared/app/tick.ts';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import { TransientPlatformError } from '../../shared/domain/errors.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { DAY, MINUTE } from '../support/platform-harness.ts';
import { type RealHarness, startRealHarness } from './real-harness.ts';
import { mapLimit, RealNetwork } from './real-network.ts';

const db = useDynamoBackend(dynaliteBackend);
const REPO = join(import.meta.dirname, '..', '..');
let harness: RealHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Auto mode, every hour active, spam filters off (seeded accounts are minutes old): #nobot still counts. */
const AUTO = {
  mode: 'auto',
  quietHours: null,
  spam: {
    emptyProfile: 'off',
    defaultAvatar: 'off',
    newAccount: { action: 'off' },
    ratio: { action: 'off' },
  },
};

async function start(options: Omit<Parameters<typeof startRealHarness>[1], 'network'> = {}) {
  harness = await startRealHarness(db, { network: 'bluesky', policy: AUTO, ...options });
  return harness;
}

async function followersOf(platform: Platform, did: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await platform.listFollowers(did, { cursor, pageSize: 100 });
    ids.push(...page.users.map((user) => user.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('the real atproto stack', () => {
  it('lists followers without the deactivated, taken-down and deleted ones, who still count', async () => {
    // Prepare: an owner with 12 followers of every kind
    const h = await start({ owner: { initialFollowers: 6, initialFollowing: 2 } });
    const [bare, noBot, deactivated, takenDown, deleted, plain] = await mapLimit(
      [null, { description: 'No bots please #nobot' }, {}, {}, {}, {}] as const,
      3,
      (profile) => h.real.createAccount('k', profile),
    );
    for (const account of [bare!, noBot!, deactivated!, takenDown!, deleted!, plain!]) {
      await h.real.follow(account, h.ownerAccount.did);
    }
    await h.real.settle();
    await h.real.deactivate(deactivated!);
    await h.real.takedown(takenDown!.did);
    await h.real.deleteAccount(deleted!.did);
    await h.real.settle();

    // Act
    const listed = await followersOf(h.platform, h.ownerAccount.did);
    const me = await h.platform.me();
    const [bareUser, noBotUser] = await h.platform.lookupUsers([bare!.did, noBot!.did]);

    // Assess
    expect(listed).toContain(bare!.did);
    expect(listed).toContain(plain!.did);
    for (const gone of [deactivated!, takenDown!, deleted!]) expect(listed).not.toContain(gone.did);
    expect(listed).toHaveLength(6 + 3);
    // The count still has the deactivated and taken-down followers (the deleted one is gone).
    expect(me.followersCount).toBeGreaterThanOrEqual(6 + 3);
    expect(bareUser).toMatchObject({ id: bare!.did, name: '', bio: '', createdAt: undefined });
    expect(noBotUser?.bio).toContain('#nobot');
  });

  it('replaces an older follow record of the same subject, and the adapter knows its pending follow', async () => {
    // Prepare
    const h = await start({ owner: { initialFollowers: 3, initialFollowing: 1 } });
    const [a, b] = await mapLimit([{}, {}], 2, (profile) => h.real.createAccount('d', profile));

    // Act: two records for a by hand; two follows of b in a row through the adapter
    const first = await h.real.follow(h.ownerAccount, a!.did);
    const second = await h.real.follow(h.ownerAccount, a!.did);
    const followed = await h.platform.follow(h.ownerAccount.did, b!.did);
    const again = await h.platform.follow(h.ownerAccount.did, b!.did);
    const records = await h.real.followRecords(h.ownerAccount.did);

    // Assess
    expect(records.filter((record) => record.subject === a!.did).map((record) => record.uri)).toEqual([
      second,
    ]);
    expect(second).not.toBe(first);
    expect(followed.outcome).toBe('followed');
    expect(again.outcome).toBe('already_following');
    expect(records.filter((record) => record.subject === b!.did)).toHaveLength(1);
    // The create's rate-limit headers describe the per-IP window, not write points.
    expect(followed.rateLimit).toMatchObject({ limit: 3_000 });
    expect(h.graph.followCalls(b!.did)).toEqual(['followed']);
  });

  it('fails a bad cursor as a transient server error (502 through the PDS)', async () => {
    // Prepare
    const h = await start({ owner: { initialFollowers: 3, initialFollowing: 1 } });

    // Act
    const error = await h.platform
      .listFollowers(h.ownerAccount.did, { cursor: 'not-a-cursor', pageSize: 10 })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );

    // Assess
    expect(error).toBeInstanceOf(TransientPlatformError);
  });

  it('keeps a used refresh token working, and an access token after its app password is revoked', async () => {
    // Prepare
    const real = RealNetwork.fromInject();
    const owner = await real.createAccount('s', {});
    const password = await real.createAppPassword(owner, 'sessions');
    const agent = new AtpAgent({ service: real.info.pds });
    await agent.login({ identifier: owner.handle, password });
    const { accessJwt, refreshJwt } = agent.session!;

    // Act
    const refresh = () =>
      fetch(new URL('/xrpc/com.atproto.server.refreshSession', real.info.pds), {
        method: 'POST',
        headers: { authorization: `Bearer ${refreshJwt}` },
      });
    const rotated = (await (await refresh()).json()) as { refreshJwt?: string };
    const reused = await refresh();
    await real.revokeAppPassword(owner, 'sessions');
    const afterRevoke = await fetch(new URL('/xrpc/com.atproto.server.getSession', real.info.pds), {
      headers: { authorization: `Bearer ${accessJwt}` },
    });
    const login = await fetch(new URL('/xrpc/com.atproto.server.createSession', real.info.pds), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: owner.handle, password }),
    });

    // Assess
    expect(rotated.refreshJwt).not.toBe(refreshJwt);
    expect(reused.status).toBe(200);
    expect(afterRevoke.status).toBe(200);
    expect(login.status).toBe(401);
  });

  it('connects an account with `followback connect bluesky`, the app password piped in', async () => {
    // Prepare
    const real = RealNetwork.fromInject();
    const owner = await real.createAccount('c', { displayName: 'Corner Shop' });
    const password = await real.createAppPassword(owner, 'connect');
    const dir = await mkdtemp(join(tmpdir(), 'followback-real-connect-'));
    const bin = join(REPO, 'bin', 'followback.mjs');
    const run = (args: string[], stdin?: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [bin, ...args],
          { timeout: 120_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin!.end(stdin ?? '');
      });
    try {
      await promisify(execFile)(process.execPath, [
        bin,
        'client',
        'add',
        'acme',
        '--time-zone',
        'UTC',
        '--local',
        '--dir',
        dir,
      ]);

      // Act
      const connected = await run(
        [
          'connect',
          'bluesky',
          '--client',
          'acme',
          '--handle',
          owner.handle,
          '--service',
          real.info.pds,
          '--local',
          '--dir',
          dir,
          '--password-stdin',
        ],
        `${password}\n`,
      );
      const listed = await run(['account', 'list', '--client', 'acme', '--local', '--dir', dir, '--json']);

      // Assess
      expect(connected.code, connected.stderr).toBe(0);
      expect(`${connected.stdout}${connected.stderr}`).not.toContain(password);
      expect(listed.stdout).toContain(owner.did);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs 300 ticks of the real tick: follows back the new followers, skips #nobot, no 429', async () => {
    // Prepare
    const h = await start({ owner: { initialFollowers: 40, initialFollowing: 10 } });
    await h.runFor(2 * 15 * MINUTE);
    const newcomers = await h.graph.gainFollowers(6);
    const [noBot] = await h.graph.gainFollowers(1, { noBot: true });
    const reports: TickReport[] = [];

    // Act: 300 ticks, 15 minutes apart (about three days); two more followers on day two
    let late: string[] = [];
    for (let i = 0; i < 300; i += 1) {
      if (i === 100) late = await h.graph.gainFollowers(2);
      h.clock.advance(15 * MINUTE);
      reports.push(await h.tick());
    }

    // Assess
    const task = async (did: string): Promise<FollowTask | undefined> =>
      (await h.store.getTask(h.account, did))?.task;
    for (const did of [...newcomers, ...late]) {
      expect((await task(did))?.state).toBe('done');
      expect(await h.graph.isFollowing(did)).toBe(true);
      expect(h.graph.followCalls(did)).toEqual(['followed']);
    }
    expect((await task(noBot!))?.skipReason).toBe('bot_or_nobot');
    expect(await h.graph.isFollowing(noBot!)).toBe(false);
    // Every tick either ran or found nothing due (the account's own schedule); none was refused.
    expect(reports).toHaveLength(300);
    expect(reports.filter((report) => !report.ran && report.reason !== 'not_due')).toEqual([]);
    expect(reports.filter((report) => report.ran).length).toBeGreaterThan(20);
    expect(
      reports.flatMap((report) => (report.ran && report.act.stopped ? [report.act.stopped.reason] : [])),
    ).not.toContain('rate_limited');
    expect(h.graph.totals()).toMatchObject({ rateLimited: 0, duplicateFollowCalls: 0 });
    expect(reports.length * 15 * MINUTE).toBeGreaterThanOrEqual(3 * DAY);
  });
});
