import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/followback.mjs');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-tenants-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `followback <args> --local --dir <tmp>` in a child process. */
async function followback(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args, '--local', '--dir', dir], {
      timeout: 60_000,
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('followback client and account', () => {
  it('adds, lists, updates and removes clients and accounts in the local store', async () => {
    // Act
    const added = await followback(
      'client',
      'add',
      'acme',
      '--name',
      'Acme Bakery',
      '--time-zone',
      'Europe/Berlin',
      '--digest-email',
      'owner@acme.example',
      '--digest-day',
      'friday',
      '--digest-hour',
      '17',
    );
    const account = await followback(
      'account',
      'add',
      '--client',
      'acme',
      '--network',
      'x',
      '--handle',
      'acme',
      '--mode',
      'approve',
    );
    const updated = await followback(
      'account',
      'update',
      '--client',
      'acme',
      '--account',
      'x-acme',
      '--policy',
      '{"promise":{"withinHours":48}}',
    );
    const clients = await followback('client', 'list', '--json');
    const accounts = await followback('account', 'list', '--client', 'acme', '--json');
    const unconfirmed = await followback('client', 'remove', 'acme');
    const removed = await followback('client', 'remove', 'acme', '--yes');
    const after = await followback('client', 'list', '--json');

    // Assess
    expect(added).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('client acme added (Acme Bakery, Europe/Berlin)'),
    });
    expect(account.stdout).toContain('account acme/x-acme added (@acme on x, not_connected)');
    expect(account.stdout).toContain('followback connect x --client acme --account x-acme');
    expect(updated.stdout).toContain('+ policy.promise.withinHours: 48');
    expect(JSON.parse(clients.stdout)).toEqual([
      expect.objectContaining({
        clientId: 'acme',
        digestWeekday: 5,
        digestHour: 17,
        digestEmails: ['owner@acme.example'],
        accounts: ['x-acme'],
      }),
    ]);
    expect(JSON.parse(accounts.stdout)).toEqual([
      expect.objectContaining({
        accountId: 'x-acme',
        status: 'not_connected',
        policy: { timeZone: 'Europe/Berlin', mode: 'approve', promise: { withinHours: 48 } },
      }),
    ]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain(
      'nothing removed; removing client acme removes 1 account: x-acme (@acme on x)',
    );
    expect(removed.stdout).toContain('client acme removed, with 1 account, their data and their tokens');
    expect(JSON.parse(after.stdout)).toEqual([]);
  }, 120_000);

  it('refuses bad input naming the field, and changes nothing', async () => {
    // Prepare
    await followback('client', 'add', 'acme', '--time-zone', 'UTC');

    // Act
    const badZone = await followback('client', 'add', 'beta', '--time-zone', 'Mars/Olympus');
    const badHour = await followback('client', 'update', 'acme', '--digest-hour', '25');
    const autoOnX = await followback(
      'account',
      'add',
      '--client',
      'acme',
      '--network',
      'x',
      '--handle',
      'acme',
      '--mode',
      'auto',
    );
    const badJson = await followback(
      'account',
      'add',
      '--client',
      'acme',
      '--network',
      'x',
      '--handle',
      'acme',
      '--policy',
      '{mode:',
    );
    const list = await followback('account', 'list', '--json');

    // Assess
    expect(badZone).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('timeZone: must be an IANA time zone'),
    });
    expect(badHour).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--digest-hour must be a whole number from 0 to 23'),
    });
    expect(autoOnX).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("policy.mode: 'auto' on X needs acknowledgeXAutomationPolicy"),
    });
    expect(badJson).toMatchObject({ code: 1, stderr: expect.stringContaining('--policy is not JSON') });
    expect(JSON.parse(list.stdout)).toEqual([]);
  }, 120_000);
});

describe('followback apply', () => {
  const file = `version: 1
clients:
  acme:
    name: Acme Bakery
    timeZone: Europe/Berlin
    digest: { emails: [owner@acme.example] }
    accounts:
      x-acme: { network: x, handle: acme, policy: { mode: approve } }
`;

  it('shows the plan, applies it only with --yes, and a second apply is a no-op', async () => {
    // Prepare
    const path = join(dir, 'clients.yaml');
    await writeFile(path, file);

    // Act
    const plan = await followback('apply', path);
    const before = await followback('client', 'list', '--json');
    const applied = await followback('apply', path, '--yes');
    const again = await followback('apply', path, '--yes', '--json');

    // Assess
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('+ create client acme');
    expect(plan.stdout).toContain('+ create account acme/x-acme');
    expect(plan.stdout).toContain('    + policy.mode: "approve"');
    expect(plan.stdout).toContain('    + digest.day: "mon"');
    expect(plan.stdout).not.toMatch(/observe\.|platformUserId|status|clientId|digestWeekday/);
    expect(plan.stdout).toContain('Plan: 2 to create, 0 to update, 0 to remove.');
    expect(plan.stdout).toContain('Nothing applied: run again with --yes');
    expect(JSON.parse(before.stdout)).toEqual([]);
    expect(applied.stdout).toContain('Applied: 2 created, 0 updated, 0 removed.');
    expect(applied.stdout).toContain(
      'acme/x-acme: connect it: followback connect x --client acme --account x-acme',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({
      applied: false,
      plan: { summary: { create: 0, update: 0, remove: 0 } },
    });
  }, 120_000);

  it('names the field and line of a bad clients.yaml and exits 1', async () => {
    // Prepare
    const path = join(dir, 'clients.yaml');
    await writeFile(path, file.replace('owner@acme.example', 'owner-at-acme'));

    // Act
    const failed = await followback('apply', path, '--yes');

    // Assess
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${path}:6:24: clients.acme.digest.emails.0: must be an email address`);
  }, 60_000);

  it('warns that a pruned file declares nothing, and removes nothing without --allow-empty', async () => {
    // Prepare
    const path = join(dir, 'clients.yaml');
    await writeFile(path, file);
    await followback('apply', path, '--yes');
    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, 'version: 1\n');

    // Act
    const refused = await followback('apply', empty, '--prune', '--yes');
    const after = await followback('client', 'list', '--json');

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `warning: ${empty} declares no clients: with --prune this plan removes every client and account`,
    );
    expect(refused.stderr).toContain('run again with --yes --prune --allow-empty');
    expect(refused.stdout).toContain('- remove client acme');
    expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ clientId: 'acme' })]);
  }, 120_000);
});
