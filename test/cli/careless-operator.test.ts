/**
 * The operator's mistakes get a clear answer: what went wrong, what to do, and an exit code a
 * script can trust (1 when nothing was done), as text or, with --json, as a JSON error object.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../../shared/domain/account.ts';
import { createPendingTask } from '../../shared/domain/engine/task.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { followback, local, seedLocalStore } from './support.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-careless-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;

/** A client with two approve-mode accounts: two people wait on the shop, one on the blog. */
async function seedWaiting(): Promise<void> {
  const now = Date.now();
  await seedLocalStore(dir, async (store) => {
    const client: ClientRecord = {
      clientId: 'acme',
      name: 'Acme',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@acme.example'],
      createdAt: now,
    };
    await store.putClient(client);
    const account = (accountId: string, handle: string): AccountRecord => ({
      clientId: 'acme',
      accountId,
      network: 'x',
      platformUserId: `${accountId.length}00`,
      handle,
      status: 'active',
      observe: resolveObserveSettings('x', {}),
      policy: { mode: 'approve', timeZone: client.timeZone },
      createdAt: now,
    });
    const shop = account('x-shop', 'acmeshop');
    const blog = account('x-blog', 'acmeblog');
    await store.putAccount(shop);
    await store.putAccount(blog);
    const wait = async (on: AccountRecord, targetId: string, handle: string, hoursAgo: number) =>
      store.createTask(
        on,
        createPendingTask({
          targetId,
          detectedAt: now - hoursAgo * HOUR,
          profile: {
            handle,
            name: handle,
            bio: '',
            followersCount: 1,
            followingCount: 2_500,
            protected: false,
          },
        }),
      );
    await wait(shop, '1001', 'Anna_Bakes', 30);
    await wait(shop, '1002', 'ben', 2);
    await wait(blog, '2001', 'cleo', 5);
  });
}

describe('followback approve, for a careless operator', () => {
  it('approves by handle, with or without @ and in any case', async () => {
    // Prepare
    await seedWaiting();

    // Act
    const done = await local(
      dir,
      'approve',
      '--client',
      'acme',
      '--account',
      'x-shop',
      '--approve',
      '@anna_bakes',
    );
    const left = await local(dir, 'approve', '--client', 'acme', '--account', 'x-shop', '--json');

    // Assess
    expect(done).toMatchObject({ code: 0, stdout: 'approved 1, skipped 0\n' });
    const candidates = (JSON.parse(left.stdout) as { candidates: { targetId: string }[] }).candidates;
    expect(candidates.map((c) => c.targetId)).toEqual(['1002']);
  });

  it('exits 1 and says so when nothing was done: an unknown handle or id', async () => {
    // Prepare
    await seedWaiting();

    // Act
    const unknownHandle = await local(
      dir,
      'approve',
      '--client',
      'acme',
      '--account',
      'x-shop',
      '--approve',
      '@nobody',
    );
    const unknownId = await local(
      dir,
      'approve',
      '--client',
      'acme',
      '--account',
      'x-shop',
      '--skip',
      '999',
      '--json',
    );
    const still = await local(dir, 'approve', '--client', 'acme', '--account', 'x-shop', '--json');

    // Assess
    expect(unknownHandle.code).toBe(1);
    expect(unknownHandle.stderr).toContain(
      'nothing changed: @nobody is not waiting for approval in acme/x-shop',
    );
    expect(unknownHandle.stderr).toContain('followback approve --client acme --account x-shop');
    expect(unknownId.code).toBe(1);
    expect(JSON.parse(unknownId.stdout)).toMatchObject({
      error: { name: 'NothingDoneError', message: expect.stringContaining('999 is not waiting') },
    });
    expect((JSON.parse(still.stdout) as { candidates: unknown[] }).candidates).toHaveLength(2);
  });

  it("lists everyone waiting across the client's accounts, with how long each has waited", async () => {
    // Prepare
    await seedWaiting();

    // Act
    const listed = await local(dir, 'approve', '--client', 'acme');

    // Assess
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('acme/x-shop  @acmeshop on x: 2 waiting');
    expect(listed.stdout).toContain('acme/x-blog  @acmeblog on x: 1 waiting');
    expect(listed.stdout).toMatch(
      /1001 {2}@Anna_Bakes \(Anna_Bakes\) {2}1 follower, 2,500 following; waiting 1 d 6 h/,
    );
    expect(listed.stdout).toContain('2001  @cleo (cleo)');
    expect(listed.stdout).toContain('3 waiting.');
  });
});

describe('the local store, for a careless operator', () => {
  it('refuses a --dir that holds no store instead of making an empty one, and exits 1', async () => {
    // Prepare
    const typo = join(dir, '.folowback');

    // Act
    const status = await local(typo, 'status');
    const approve = await local(typo, 'approve', '--client', 'acme', '--json');

    // Assess
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`no local store in ${typo}`);
    expect(status.stderr).toContain('check --dir');
    expect(JSON.parse(approve.stdout)).toMatchObject({ error: { name: 'LocalStoreMissingError' } });
    expect(existsSync(typo)).toBe(false);
  });

  it('says which process holds the store, and what to do, when another command has it open', async () => {
    // Prepare: this test process holds the store, as a running `followback start` would
    await seedWaiting();
    const held = await startLocalDynamo({ path: join(dir, 'dynamo') });
    try {
      // Act
      const status = await local(dir, 'status');

      // Assess
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(`is in use by process ${process.pid}`);
      expect(status.stderr).toContain(`kill ${process.pid}`);
    } finally {
      await held.close();
    }
  });
});

describe('JSON for scripts', () => {
  it('lists clients with every setting, defaults included, and their accounts', async () => {
    // Prepare
    await seedWaiting();

    // Act
    const listed = await local(dir, 'client', 'list', '--json');

    // Assess
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        clientId: 'acme',
        locale: 'en-GB',
        digestDay: 'mon',
        digestWeekday: 1,
        digestHour: 8,
        digestOptOut: false,
        accounts: ['x-blog', 'x-shop'],
        accountDetails: [
          { accountId: 'x-blog', network: 'x', handle: 'acmeblog', status: 'active', mode: 'approve' },
          { accountId: 'x-shop', network: 'x', handle: 'acmeshop', status: 'active', mode: 'approve' },
        ],
      }),
    ]);
  });
});

describe('errors a script can read', () => {
  it('gives a JSON error object on stdout, and exit 1, for a failing --json command', async () => {
    // Prepare
    await seedWaiting();

    // Act
    const missing = await local(dir, 'status', '--client', 'nobody', '--json');
    const usage = await local(dir, 'approve', '--json');

    // Assess
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: expect.objectContaining({ name: 'ValidationError', message: expect.stringContaining('nobody') }),
    });
    expect(usage.code).toBe(1);
    expect(JSON.parse(usage.stdout)).toMatchObject({
      error: { name: 'UsageError', message: "required option '--client <id>' not specified" },
    });
    expect(usage.stderr).toBe('');
  });

  it('says no deployment was reached, and points at --local, without AWS credentials', async () => {
    // Prepare: no AWS identity anywhere the SDK looks
    const env = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
      AWS_REGION: 'eu-west-1',
    };

    // Act
    const status = await followback(['status'], env);
    const list = await followback(['client', 'list', '--json'], env);

    // Assess
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('no deployment was reached');
    expect(status.stderr).toContain('--local');
    expect(status.stderr).not.toContain('CredentialsProviderError');
    expect(list.code).toBe(1);
    expect(JSON.parse(list.stdout)).toMatchObject({
      error: { name: 'NoDeploymentError', hint: expect.stringContaining('--local') },
    });
  });
});
