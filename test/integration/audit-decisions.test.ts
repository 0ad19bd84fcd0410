/**
 * Approvals and declines reach the audit log whoever made them: the digest's approval link and the
 * CLI (the console's own are covered by the e2e journey), with who and when, once each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import type { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { type ApprovalDeps, handleApprovalRequest } from '../../shared/app/approval/handle.ts';
import { batchLink } from '../../shared/app/approval/links.ts';
import { auditCsv } from '../../shared/app/console/audit.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import { createPendingTask } from '../../shared/domain/engine/task.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { local, seedLocalStore } from '../cli/support.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BASE_URL, type DigestWorld, startDigestWorld, TEST_KEY } from '../support/digest.ts';

const CLIENT = 'sunrise';
const ACCOUNT = 'x-sunrise';
const ref = { clientId: CLIENT, accountId: ACCOUNT };

describe('the audit log of decisions taken through the approval link', () => {
  const db = useDynamoBackend(dynaliteBackend);
  let world: DigestWorld;
  let audit: DynamoConsoleStore;
  let deps: ApprovalDeps;
  let pending: string[];

  beforeEach(async () => {
    world = await startDigestWorld(db);
    audit = new DynamoConsoleStore({ client: db.client, tableName: world.tableName });
    deps = {
      store: world.store,
      uses: world.digests,
      clock: world.clock,
      keys: TEST_KEY,
      agencyName: 'Sunrise Social',
      baseUrl: BASE_URL,
      audit,
    };
    pending = world.sample.pending[ACCOUNT] ?? [];
  });

  const tokenOf = () =>
    new URL(
      batchLink({ keys: TEST_KEY, baseUrl: BASE_URL, now: world.clock.now() }, ref, pending)!,
    ).searchParams.get('t') ?? '';
  const post = (token: string, ids: string[], action: 'approve' | 'skip') => {
    const body = new URLSearchParams({ token, action });
    for (const id of ids) body.append('approve', id);
    return {
      method: 'POST',
      path: `/approve/${CLIENT}`,
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
  };

  it('records an approval with "approval link" as who and the moment of the click as when', async () => {
    // Prepare
    const token = tokenOf();
    world.clock.advance(3_600_000);
    const clickedAt = world.clock.now();
    // Act
    const response = await handleApprovalRequest(deps, post(token, pending.slice(0, 2), 'approve'));
    // Assess
    expect(response.status).toBe(200);
    const entries = await audit.listAudit(CLIENT);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      at: clickedAt,
      accountId: ACCOUNT,
      network: 'x',
      action: 'approve',
      actor: { kind: 'approval-link' },
      targets: pending.slice(0, 2),
    });
    expect(entries[0]?.detail).toContain('2 candidate(s) approved');
    expect(entries[0]?.detail).toContain('through the approval link');
    const csv = auditCsv(entries);
    expect(csv.split('\r\n')[0]).toContain('who');
    expect(csv).toContain(',approval link,approve,');
  });

  it('records a decline as a decline', async () => {
    // Act
    await handleApprovalRequest(deps, post(tokenOf(), [pending[0]!], 'skip'));
    // Assess
    const entries = await audit.listAudit(CLIENT);
    expect(entries.map((e) => [e.action, e.targets])).toEqual([['decline', [pending[0]]]]);
  });

  it('records nothing for a refused form, and nothing twice for a used link', async () => {
    // Prepare
    const token = tokenOf();
    await handleApprovalRequest(deps, post(token, [pending[0]!], 'approve'));
    // Act
    const again = await handleApprovalRequest(deps, post(token, [pending[1]!], 'approve'));
    const forged = await handleApprovalRequest(deps, post(tokenOf(), ['not-a-candidate'], 'approve'));
    // Assess
    expect(again.status).toBe(410);
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(await audit.listAudit(CLIENT)).toHaveLength(1);
  });

  it('writes one entry when a crash between deciding and the bookkeeping makes the owner press again', async () => {
    // Prepare: the first POST decides, writes its audit entry, then dies before marking the token applied
    const token = tokenOf();
    let dies = true;
    const dying = new Proxy(world.digests, {
      get(target, name, receiver) {
        if (name === 'putApprovalUse' && dies) {
          return async () => {
            dies = false;
            throw new Error('process killed');
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await handleApprovalRequest({ ...deps, uses: dying }, post(token, pending.slice(0, 2), 'approve'));
    // Act
    const retried = await handleApprovalRequest(deps, post(token, pending.slice(0, 2), 'approve'));
    // Assess
    expect(retried.status).toBe(410);
    expect(await audit.listAudit(CLIENT)).toHaveLength(1);
  });

  it('writes the entry when the crash came before it, on the retry that finishes the decision', async () => {
    // Prepare: the first POST consumes the token and dies at its first task write
    const token = tokenOf();
    let failures = 1;
    const dying = new Proxy(world.store, {
      get(target, name, receiver) {
        if (name === 'putTask') {
          return async (...args: Parameters<DynamoStore['putTask']>) => {
            if (failures-- > 0) throw new Error('process killed');
            return target.putTask(...args);
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await handleApprovalRequest({ ...deps, store: dying }, post(token, pending.slice(0, 2), 'approve'));
    expect(await audit.listAudit(CLIENT)).toHaveLength(0);
    // Act
    await handleApprovalRequest(deps, post(token, pending.slice(0, 2), 'approve'));
    // Assess
    const entries = await audit.listAudit(CLIENT);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'approve', actor: { kind: 'approval-link' } });
    expect(entries[0]?.targets?.sort()).toEqual(pending.slice(0, 2).sort());
  });
});

describe('the audit log of decisions taken with the CLI', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'followback-audit-cli-'));
    return () => rm(dir, { recursive: true, force: true });
  });

  it('records `followback approve` and `--skip` with "CLI" as who', async () => {
    // Prepare
    const now = Date.now();
    await seedLocalStore(dir, async (store) => {
      await store.putClient({
        clientId: 'acme',
        name: 'Acme',
        timeZone: 'Europe/Berlin',
        digestEmails: ['owner@acme.example'],
        createdAt: now,
      });
      const account = {
        clientId: 'acme',
        accountId: 'x-shop',
        network: 'x' as const,
        platformUserId: '500',
        handle: 'acmeshop',
        status: 'active' as const,
        observe: resolveObserveSettings('x', {}),
        policy: { mode: 'approve' as const, timeZone: 'Europe/Berlin' },
        createdAt: now,
      };
      await store.putAccount(account);
      for (const [targetId, handle] of [
        ['1001', 'anna'],
        ['1002', 'ben'],
      ] as const) {
        await store.createTask(
          account,
          createPendingTask({
            targetId,
            detectedAt: now - 3_600_000,
            profile: {
              handle,
              name: handle,
              bio: '',
              followersCount: 1,
              followingCount: 2,
              protected: false,
            },
          }),
        );
      }
    });
    // Act
    const approved = await local(
      dir,
      'approve',
      '--client',
      'acme',
      '--account',
      'x-shop',
      '--approve',
      '@anna',
    );
    const skipped = await local(dir, 'approve', '--client', 'acme', '--account', 'x-shop', '--skip', 'ben');
    // Assess
    expect(approved.code).toBe(0);
    expect(skipped.code).toBe(0);
    const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
    try {
      const entries = await new DynamoConsoleStore({
        client: dynamo.client,
        tableName: dynamo.tableName,
      }).listAudit('acme');
      expect(entries.map((e) => [e.action, e.actor, e.targets, e.accountId])).toEqual([
        ['decline', { kind: 'cli', id: 'cli' }, ['1002'], 'x-shop'],
        ['approve', { kind: 'cli', id: 'cli' }, ['1001'], 'x-shop'],
      ]);
      expect(auditCsv(entries)).toContain(',CLI,decline,');
    } finally {
      await dynamo.close();
    }
  });
});
