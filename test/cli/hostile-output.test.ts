/**
 * Followers' names, handles and bios are written by strangers; the operator reads them on a
 * terminal while deciding approvals. Nothing of them may drive the terminal (escape sequences,
 * controls, bidi controls) or fake a line of output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../../shared/domain/account.ts';
import { createPendingTask } from '../../shared/domain/engine/task.ts';
import { local, seedLocalStore, TERMINAL_ACTIVE } from './support.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-hostile-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = Date.UTC(2026, 2, 9, 8, 30);
const HOSTILE_NAME = 'Eve\u001b[2J\u001b[H\u001b]0;pwned\u0007\u001b]52;c;cm0gLXJmIH4=\u0007';
const FAKE_LINE = 'Bob\r\n1700000000000000999  @trusted_friend (Trusted Friend)  5000 followers';
const HOSTILE_BIO =
  'hi \u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ \u202Egnp.exe\u202C \u009b31mred\u0085next\u061C\uFFF9x\uFFFBy';

async function seedHostileWorld(): Promise<void> {
  await seedLocalStore(dir, async (store) => {
    const client: ClientRecord = {
      clientId: 'acme',
      // Written straight to the store (input refuses it now): an old record must still print safely.
      name: 'Acme\u001b]0;title\u0007 Bakery\u202E',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@acme.example'],
      createdAt: NOW,
    };
    const account: AccountRecord = {
      clientId: 'acme',
      accountId: 'x-acme',
      network: 'x',
      platformUserId: '42',
      handle: 'acme\u001b[31m',
      status: 'active',
      observe: resolveObserveSettings('x', {}),
      policy: { mode: 'approve', timeZone: client.timeZone },
      createdAt: NOW,
    };
    await store.putClient(client);
    await store.putAccount(account);
    const profiles = [
      { handle: 'eve\u001b[8m', name: HOSTILE_NAME, bio: HOSTILE_BIO },
      { handle: 'bob\u2066', name: FAKE_LINE, bio: 'line one\nline two\rline three' },
    ];
    for (const [i, p] of profiles.entries()) {
      await store.createTask(
        account,
        createPendingTask({
          targetId: String(1_700_000_000_000_000_001n + BigInt(i)),
          detectedAt: NOW - (i + 1) * 3_600_000,
          profile: { ...p, followersCount: 10, followingCount: 20, protected: false },
        }),
      );
    }
  });
}

describe('human output with hostile names, handles and bios', () => {
  it('lists approval candidates without a control byte and without fake lines', async () => {
    // Prepare
    await seedHostileWorld();

    // Act
    const listed = await local(dir, 'approve', '--client', 'acme', '--account', 'x-acme');

    // Assess
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toMatch(TERMINAL_ACTIVE);
    expect(listed.stderr).not.toMatch(TERMINAL_ACTIVE);
    expect(listed.stdout).toContain('Eve');
    expect(listed.stdout).toContain('click');
    // Every candidate line starts with a real candidate id: the fake one is folded into Bob's name.
    const idLines = listed.stdout.split('\n').filter((line) => /^\d{19}\s/.test(line));
    expect(idLines.map((line) => line.slice(0, 19)).sort()).toEqual([
      '1700000000000000001',
      '1700000000000000002',
    ]);
    expect(listed.stdout).toContain(
      '(Bob 1700000000000000999 @trusted_friend (Trusted Friend) 5000 followers)',
    );
    expect(listed.stdout).toContain('line one line two line three');
  });

  it('prints status, client list and account list without a control byte', async () => {
    // Prepare
    await seedHostileWorld();

    // Act
    const outputs = [
      await local(dir, 'status'),
      await local(dir, 'client', 'list'),
      await local(dir, 'account', 'list'),
      await local(dir, 'client', 'list', '--json'),
    ];

    // Assess
    for (const output of outputs) {
      expect(output.code).toBe(0);
      expect(output.stdout).not.toMatch(TERMINAL_ACTIVE);
      expect(output.stderr).not.toMatch(TERMINAL_ACTIVE);
    }
    expect(outputs[1]!.stdout).toContain('Acme Bakery');
    // JSON keeps the stored value exactly (escaped, so it is safe on a terminal too).
    const clients = JSON.parse(outputs[3]!.stdout) as { name: string }[];
    expect(clients[0]!.name).toBe('Acme\u001b]0;title\u0007 Bakery\u202E');
  });

  it('refuses control characters and line breaks in client names and handles at input', async () => {
    // Act
    const client = await local(
      dir,
      'client',
      'add',
      'acme',
      '--name',
      'Acme\u001b[2J',
      '--time-zone',
      'Europe/Berlin',
    );
    await local(dir, 'client', 'add', 'acme', '--name', 'Acme', '--time-zone', 'Europe/Berlin');
    const account = await local(
      dir,
      'account',
      'add',
      '--client',
      'acme',
      '--network',
      'bluesky',
      '--handle',
      'acme.bsky.social\u202E',
    );

    // Assess
    expect(client.code).toBe(1);
    expect(client.stderr).toContain('name: must not contain control characters');
    expect(client.stderr).not.toMatch(TERMINAL_ACTIVE);
    expect(account.code).toBe(1);
    expect(account.stderr).toContain('handle: must not contain control characters');
  });
});
