import { beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { applyPlan, planFromFile } from '../../shared/app/tenants/apply.ts';
import type { TenantDeps } from '../../shared/app/tenants/registry.ts';
import { ClientsFileError } from '../../shared/config/clients-file.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../shared/domain/tenants/tenant.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const START = Date.UTC(2026, 0, 5, 9);
const db = useDynamoBackend(dynaliteBackend);
let store: DynamoStore;
let clock: VirtualClock;
let deps: TenantDeps;

beforeEach(async () => {
  clock = new VirtualClock(START);
  store = new DynamoStore({ client: db.client, tableName: await createTestTable(db), clock });
  deps = { store, clock };
});

const FILE = `# the agency's clients
version: 1
clients:
  acme:
    name: Acme Bakery
    timeZone: Europe/Berlin
    locale: en-US
    digest:
      emails: [owner@acme.example, ops@acme.example]
      day: fri
      hour: 17
    accounts:
      x-acme:
        network: x
        handle: acme
        platformUserId: 1441234567890123456789
        policy:
          mode: approve
          promise: { withinHours: 48 }
        observe: { detectionDelayHours: 12 }
      bsky-acme:
        network: bluesky
        handle: acme.bsky.social
  beta:
    timeZone: UTC
`;

async function apply(text: string, prune = false) {
  const plan = await planFromFile(deps, text, { source: 'clients.yaml', prune });
  return { plan, result: await applyPlan(deps, plan) };
}

async function errorOf(text: string): Promise<ClientsFileError> {
  const error = await planFromFile(deps, text, { source: 'clients.yaml' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClientsFileError);
  return error as ClientsFileError;
}

describe('apply clients.yaml', () => {
  it('plans every client and account to create, with their fields, and writes nothing', async () => {
    // Act
    const plan = await planFromFile(deps, FILE);

    // Assess
    expect(plan.summary).toEqual({ create: 4, update: 0, remove: 0, keep: 0 });
    expect(
      plan.steps.map(
        (s) => `${s.op} ${s.kind === 'client' ? s.clientId : `${s.ref.clientId}/${s.ref.accountId}`}`,
      ),
    ).toEqual(['create acme', 'create beta', 'create acme/bsky-acme', 'create acme/x-acme']);
    const xAcme = plan.steps.find((s) => s.kind === 'account' && s.ref.accountId === 'x-acme')!;
    expect(xAcme.changes).toContainEqual({ path: 'policy.promise.withinHours', from: undefined, to: 48 });
    expect(xAcme.changes).toContainEqual({
      path: 'platformUserId',
      from: undefined,
      to: '1441234567890123456789',
    });
    expect(await store.listClients()).toEqual([]);
  });

  it('applies the file, and applying it again changes nothing', async () => {
    // Act
    const first = await apply(FILE);
    clock.advance(60_000);
    const second = await apply(FILE);

    // Assess
    expect(first.result).toMatchObject({ created: 4, updated: 0, removed: 0 });
    expect(second.plan.summary).toEqual({ create: 0, update: 0, remove: 0, keep: 0 });
    expect(second.result).toMatchObject({ created: 0, updated: 0, removed: 0 });
    expect(await store.getClient('acme')).toMatchObject({
      name: 'Acme Bakery',
      digestEmails: ['owner@acme.example', 'ops@acme.example'],
      digestWeekday: 5,
      digestHour: 17,
      locale: 'en-US',
      createdAt: START,
    });
    expect(await store.getAccount({ clientId: 'acme', accountId: 'x-acme' })).toMatchObject({
      platformUserId: '1441234567890123456789',
      status: 'not_connected',
      policy: { mode: 'approve', promise: { withinHours: 48 }, timeZone: 'Europe/Berlin' },
      observe: { detectionDelayHours: 12 },
    });
    expect((await store.getAccount({ clientId: 'acme', accountId: 'bsky-acme' }))?.platformUserId).toBe(
      UNKNOWN_PLATFORM_USER_ID,
    );
    expect(first.result.toConnect.map((a) => a.accountId).sort()).toEqual(['bsky-acme', 'x-acme']);
  });

  it('plans field-level updates, keeping what the file does not manage (createdAt, a connected id, the status, a digest opt-out)', async () => {
    // Prepare: applied, then the Bluesky account connected and active
    await apply(FILE);
    const bsky = (await store.getAccount({ clientId: 'acme', accountId: 'bsky-acme' }))!;
    await store.putAccount({ ...bsky, platformUserId: 'did:plc:acme', status: 'active' });
    await store.putClient({ ...(await store.getClient('acme'))!, digestOptOut: true, digestOptOutAt: START });
    const edited = FILE.replace('hour: 17', 'hour: 9').replace('withinHours: 48', 'withinHours: 36');

    // Act
    const { plan } = await apply(edited);

    // Assess
    expect(plan.summary).toEqual({ create: 0, update: 2, remove: 0, keep: 0 });
    expect(plan.steps.map((s) => s.changes)).toEqual([
      [{ path: 'digestHour', from: 17, to: 9 }],
      [{ path: 'policy.promise.withinHours', from: 48, to: 36 }],
    ]);
    expect(await store.getClient('acme')).toMatchObject({ digestOptOut: true, digestHour: 9 });
    expect(await store.getAccount(bsky)).toMatchObject({
      platformUserId: 'did:plc:acme',
      status: 'active',
      createdAt: START,
    });
  });

  it('keeps clients and accounts missing from the file unless pruned; pruning removes their data', async () => {
    // Prepare
    await apply(FILE);
    await store.putState({ clientId: 'beta', accountId: 'x-beta' }, { observe: emptyObserveState() }, 0);
    await apply(`${FILE}    accounts:\n      x-beta: { network: x, handle: beta }\n`);
    const withoutBeta = FILE.replace(/ {2}beta:\n {4}timeZone: UTC\n/, '');

    // Act
    const kept = await apply(withoutBeta);
    const pruned = await apply(withoutBeta, true);

    // Assess
    expect(kept.plan.summary).toMatchObject({ remove: 0, keep: 2 });
    expect(kept.result.removed).toBe(0);
    expect(pruned.plan.steps.filter((s) => s.op === 'remove').map((s) => s.kind)).toEqual([
      'account',
      'client',
    ]);
    expect(await store.getClient('beta')).toBeUndefined();
    expect(await store.listAccounts('beta')).toEqual([]);
    expect(await store.getState({ clientId: 'beta', accountId: 'x-beta' })).toBeUndefined();
    expect(await store.getClient('acme')).toBeDefined();
  });

  it('names each bad field with its line and column, and writes nothing', async () => {
    // Prepare
    const bad = `clients:
  acme:
    timeZone: Mars/Olympus
    digest: { emails: [not-an-email], day: funday }
    colour: red
    accounts:
      x-acme:
        network: x
        handle: acme
        policy: { mode: auto, caps: { perDay: 450 } }
`;

    // Act
    const error = await errorOf(bad);

    // Assess
    expect(error.issues.map((i) => `${i.line}:${i.col} ${i.path.join('.')}`)).toEqual([
      '1:1 version',
      '3:15 clients.acme.timeZone',
      '4:24 clients.acme.digest.emails.0',
      '4:44 clients.acme.digest.day',
      '5:5 clients.acme',
      '10:25 clients.acme.accounts.x-acme.policy.mode',
      '10:47 clients.acme.accounts.x-acme.policy.caps.perDay',
    ]);
    expect(error.message).toContain('clients.yaml:5:5: clients.acme: unknown field colour');
    expect(error.message).toContain(
      "clients.yaml:10:47: clients.acme.accounts.x-acme.policy.caps.perDay: 450 is above X's limit",
    );
    expect(await store.listClients()).toEqual([]);
  });

  it('reports YAML that does not parse with its line', async () => {
    // Act
    const duplicate = await errorOf('clients:\n  acme:\n    timeZone: UTC\n    timeZone: UTC\n');
    const unclosed = await errorOf('clients:\n  acme: { timeZone: UTC\n');

    // Assess
    expect(duplicate.issues[0]).toMatchObject({ line: 4, col: 5, message: 'Map keys must be unique' });
    expect(unclosed.issues[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses a Mastodon account that names no instance, naming the field', async () => {
    // Act
    const error = await errorOf(
      'version: 1\nclients:\n  acme:\n    timeZone: UTC\n    accounts:\n      masto-acme:\n        network: mastodon\n        handle: acme\n',
    );

    // Assess
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: ['clients', 'acme', 'accounts', 'masto-acme', 'instance'],
        message: expect.stringContaining('a Mastodon account needs its instance'),
      }),
    ]);
  });

  it('refuses a __proto__ key anywhere, with its line, instead of dropping it', async () => {
    // Act
    const error = await errorOf(
      'version: 1\nclients:\n  __proto__:\n    timeZone: UTC\n  acme:\n    timeZone: UTC\n    accounts:\n      x-acme:\n        network: x\n        handle: acme\n        policy: { __proto__: { mode: auto } }\n',
    );

    // Assess
    expect(error.issues).toEqual([
      expect.objectContaining({ line: 3, col: 3, message: '"__proto__" is not allowed as a key' }),
      expect.objectContaining({ line: 11, message: '"__proto__" is not allowed as a key' }),
    ]);
    expect(await deps.store.listClients()).toEqual([]);
  });

  it('refuses ids outside the id alphabet, unknown networks and a handle declared twice', async () => {
    // Act
    const error = await errorOf(`version: 1
clients:
  "acme#1":
    timeZone: UTC
  beta:
    timeZone: UTC
    accounts:
      one: { network: myspace, handle: beta }
      two: { network: x, handle: beta }
      three: { network: x, handle: "@Beta" }
`);

    // Assess
    const paths = error.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('clients.acme#1');
    expect(paths).toContain('clients.beta.accounts.one.network');
    expect(error.message).toContain('must be x, bluesky or mastodon');
    const twice = await errorOf(`version: 1
clients:
  beta:
    timeZone: UTC
    accounts:
      two: { network: x, handle: beta }
      three: { network: x, handle: "@Beta" }
`);
    expect(twice.issues).toEqual([
      expect.objectContaining({ path: ['clients', 'beta', 'accounts', 'three', 'handle'], line: 7 }),
    ]);
  });

  it('stops rather than undo a connect that happened between the plan and the apply', async () => {
    // Prepare
    await apply(FILE);
    const plan = await planFromFile(deps, FILE.replace('withinHours: 48', 'withinHours: 36'));
    const ref = { clientId: 'acme', accountId: 'x-acme' };
    const connected = { ...(await store.getAccount(ref))!, status: 'active' as const };
    await store.putAccount(connected);

    // Act
    const applying = await applyPlan(deps, plan).catch((error: unknown) => error);

    // Assess
    expect(applying).toBeInstanceOf(ConflictError);
    expect(await store.getAccount(ref)).toEqual(connected);
    expect((await planFromFile(deps, FILE)).summary).toMatchObject({ update: 0 });
  });

  it('refuses to change who a connected account is', async () => {
    // Prepare
    await apply(FILE);

    // Act
    const error = await errorOf(FILE.replace('1441234567890123456789', '"99"'));

    // Assess
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: ['clients', 'acme', 'accounts', 'x-acme', 'platformUserId'],
        line: 16,
        message: expect.stringContaining('is 99 but the connected account is 1441234567890123456789'),
      }),
    ]);
  });

  it('refuses a file without version, and an empty one, saying what to write', async () => {
    // Act
    const noVersion = await errorOf('clients:\n  acme:\n    timeZone: UTC\n');
    const wrongVersion = await errorOf('version: 2\nclients: {}\n');
    const empty = await errorOf('# nothing yet\n\n');

    // Assess
    expect(noVersion.issues).toEqual([
      expect.objectContaining({
        path: ['version'],
        message: 'is required: start the file with `version: 1`',
      }),
    ]);
    expect(wrongVersion.message).toContain('clients.yaml:1:10: version: must be 1');
    expect(empty.message).toContain('the file is empty: nothing to apply');
    expect(await store.listClients()).toEqual([]);
  });

  it('says a missing field is required, in words, not as a type error', async () => {
    // Act
    const error = await errorOf(
      'version: 1\nclients:\n  acme:\n    name: Acme\n    accounts:\n      x-acme: { handle: acme }\n',
    );

    // Assess
    expect(error.message).toContain('clients.acme.timeZone: is required (text)');
    expect(error.message).toContain('clients.acme.accounts.x-acme.network: must be x, bluesky or mastodon');
    expect(error.message).not.toMatch(/expected|received|undefined/);
  });

  it('checks handles against the registry too, with every other error at once', async () => {
    // Prepare: acme/x-acme holds @acme on X, and the file below keeps it (no --prune)
    await apply(FILE);
    const clash = `version: 1
clients:
  beta:
    timeZone: Mars/Olympus
    accounts:
      x-beta: { network: x, handle: ACME }
      x-two: { network: x, handle: beta, policy: { caps: { perDay: 450 } } }
      x-three: { network: x, handle: "@beta" }
`;

    // Act
    const error = await errorOf(clash);
    const fixed = clash
      .replace('Mars/Olympus', 'UTC')
      .replace(', policy: { caps: { perDay: 450 } }', '')
      .replace(/ {6}x-three.*\n/, '');
    const pruned = await planFromFile(deps, fixed, { prune: true }).catch((e: unknown) => e);

    // Assess
    expect(error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      expect.stringMatching(/^clients\.beta\.timeZone: must be an IANA time zone/),
      'clients.beta.accounts.x-beta.handle: @ACME on x is declared twice (also acme/x-acme in the registry)',
      expect.stringMatching(/^clients\.beta\.accounts\.x-two\.policy\.caps\.perDay: 450 is above X's limit/),
      'clients.beta.accounts.x-three.handle: @beta on x is declared twice (also beta/x-two)',
    ]);
    // Pruned, acme/x-acme goes away, so its handle is free.
    expect(pruned).not.toBeInstanceOf(Error);
  });

  it('keeps the handle connect found: no change planned for the same handle written another way', async () => {
    // Prepare: declared, then connected (connect stores the network's form of the handle)
    const file = `version: 1
clients:
  acme:
    timeZone: UTC
    accounts:
      masto: { network: mastodon, handle: acme, instance: example.social }
      x-acme: { network: x, handle: acme }
`;
    await apply(file);
    for (const [accountId, handle, id] of [
      ['masto', 'acme@example.social', '109'],
      ['x-acme', 'Acme', '42'],
    ] as const) {
      const ref = { clientId: 'acme', accountId };
      await store.putAccount({
        ...(await store.getAccount(ref))!,
        handle,
        platformUserId: id,
        status: 'active',
      });
    }

    // Act
    const again = await planFromFile(deps, file);
    const renamed = await errorOf(file.replace('handle: acme }', 'handle: acme_old }'));

    // Assess
    expect(again.summary).toMatchObject({ create: 0, update: 0 });
    expect(renamed.issues).toEqual([
      expect.objectContaining({
        path: ['clients', 'acme', 'accounts', 'x-acme', 'handle'],
        message: expect.stringContaining('is acme_old but the connected account is @Acme'),
      }),
    ]);
  });

  it('shows a new record as the file declares it: no ids, defaults or internal fields, weekdays by name', async () => {
    // Act
    const plan = await planFromFile(deps, FILE);

    // Assess
    const shown = (id: string) =>
      plan.shown[
        plan.steps.findIndex((s) => (s.kind === 'client' ? s.clientId : s.ref.accountId) === id)
      ]!.map((c) => `${c.path}=${JSON.stringify(c.to)}`);
    expect(shown('acme')).toEqual([
      'digest.day="fri"',
      'digest.emails=["owner@acme.example","ops@acme.example"]',
      'digest.hour=17',
      'locale="en-US"',
      'name="Acme Bakery"',
      'timeZone="Europe/Berlin"',
    ]);
    expect(shown('x-acme')).toEqual([
      'handle="acme"',
      'network="x"',
      'observe.detectionDelayHours=12',
      'platformUserId="1441234567890123456789"',
      'policy.mode="approve"',
      'policy.promise.withinHours=48',
    ]);
    expect(shown('bsky-acme')).toEqual(['handle="acme.bsky.social"', 'network="bluesky"']);
  });

  it('accepts only the locales the digest speaks (English), saying why', async () => {
    // Act
    const german = await errorOf(FILE.replace('locale: en-US', 'locale: de-DE'));
    const irish = await planFromFile(deps, FILE.replace('locale: en-US', 'locale: en-IE'));

    // Assess
    expect(german.issues).toEqual([
      expect.objectContaining({
        path: ['clients', 'acme', 'locale'],
        line: 7,
        message: expect.stringContaining('must be an English locale such as "en-GB"'),
      }),
    ]);
    expect(german.message).toContain('the digest is written in English only');
    expect(irish.summary.create).toBe(4);
  });
});
