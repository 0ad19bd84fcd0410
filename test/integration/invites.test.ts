import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import {
  connectBlueskyByInvite,
  createInvite,
  finishInviteAuthorization,
  type InviteDeps,
  InviteRefusedError,
  openInvite,
  startInviteAuthorization,
} from '../../shared/app/invites/invites.ts';
import { AuthError } from '../../shared/domain/errors.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
const KEY = 'invite-test-signing-key-0123456789abcdef!';
const START = Date.UTC(2026, 0, 5, 9);
const ACTOR = { kind: 'console', id: 'ops@agency.example' } as const;
const APP_PASSWORD = 'abcd-efgh-ijkl-mnop';

let dir: string;
let deps: InviteDeps;
let store: DynamoStore;
let consoleStore: DynamoConsoleStore;
let clock: VirtualClock;
let logins: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-invites-'));
  clock = new VirtualClock(START);
  const tableName = await createTestTable(db);
  store = new DynamoStore({ client: db.client, tableName, clock });
  consoleStore = new DynamoConsoleStore({ client: db.client, tableName });
  const vault = await LocalVault.inDirectory(dir);
  logins = 0;
  for (const clientId of ['acme', 'other']) {
    await store.putClient({ clientId, name: clientId, timeZone: 'UTC', digestEmails: [], createdAt: START });
  }
  deps = {
    registry: store,
    invites: consoleStore,
    audit: consoleStore,
    keys: KEY,
    clock,
    vault,
    credentials: new DynamoCredentialStore({ client: db.client, tableName, vault, clock }),
    baseUrl: 'https://console.example',
    x: {
      oauth: {
        authorizeUrl: ({ state }) => `https://x.example/authorize?state=${state}`,
        exchangeCode: async () => ({
          accessToken: 'x-access',
          refreshToken: 'x-refresh',
          scope: 'tweet.read users.read follows.read follows.write offline.access',
        }),
        refresh: async () => {
          throw new Error('not used');
        },
      },
      me: async () => ({ id: '777', handle: 'acme_x', name: 'Acme', bio: '', protected: false }),
    },
    bluesky: {
      service: 'https://pds.example',
      login: async ({ password }) => {
        logins += 1;
        if (password !== APP_PASSWORD) throw new AuthError('bad password');
        const did = 'did:plc:acme';
        return {
          session: {
            did,
            handle: 'acme.bsky.social',
            accessJwt: 'a',
            refreshJwt: 'r',
            active: true,
          } as never,
          user: { id: did, handle: 'acme.bsky.social', name: 'Acme', bio: '', protected: false },
        };
      },
    },
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tokenOf(url: string): string {
  return new URL(url).searchParams.get('i') ?? '';
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof InviteRefusedError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('client invites', () => {
  it('connects one Bluesky account, spends the invite, audits it, and refuses the invite a second time', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme', network: 'bluesky' });
    clock.set(START + 60_000);

    // Act
    const done = await connectBlueskyByInvite(deps, 'acme', tokenOf(url), {
      identifier: 'acme.bsky.social',
      appPassword: APP_PASSWORD,
    });
    const again = await refusal(
      connectBlueskyByInvite(deps, 'acme', tokenOf(url), {
        identifier: 'acme.bsky.social',
        appPassword: APP_PASSWORD,
      }),
    );

    // Assess
    expect(done.account).toMatchObject({
      clientId: 'acme',
      network: 'bluesky',
      handle: 'acme.bsky.social',
      status: 'active',
    });
    expect(again).toBe('spent');
    expect(logins).toBe(1);
    const audit = await consoleStore.listAudit('acme');
    expect(audit.map((e) => [e.action, e.actor.kind])).toEqual([
      ['connect', 'invite'],
      ['invite', 'console'],
    ]);
  });

  it('refuses tampered, other-client and expired invites and changes nothing', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme', ttlMs: 3_600_000 });
    const token = tokenOf(url);
    const [body, signature] = token.split('.') as [string, string];
    const forged = `${Buffer.from(Buffer.from(body, 'base64url').toString().replace('"acme"', '"other"')).toString('base64url')}.${signature}`;

    // Act
    const tampered = await refusal(openInvite(deps, 'other', forged));
    const otherClient = await refusal(
      connectBlueskyByInvite(deps, 'other', token, { identifier: 'a', appPassword: APP_PASSWORD }),
    );
    clock.set(START + 3_600_000);
    const expired = await refusal(
      connectBlueskyByInvite(deps, 'acme', token, { identifier: 'a', appPassword: APP_PASSWORD }),
    );

    // Assess
    expect([tampered, otherClient, expired]).toEqual(['tampered', 'wrong_tenant', 'expired']);
    expect(logins).toBe(0);
    expect(await store.listAccounts()).toEqual([]);
  });

  it('keeps the invite open when the app password is wrong', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme' });

    // Act
    const wrong = connectBlueskyByInvite(deps, 'acme', tokenOf(url), {
      identifier: 'acme.bsky.social',
      appPassword: 'zzzz-zzzz-zzzz-zzzz',
    });

    // Assess
    await expect(wrong).rejects.toBeInstanceOf(AuthError);
    expect((await openInvite(deps, 'acme', tokenOf(url))).stored.invite.status).toBe('open');
  });

  it('lets only one of two racing connects spend the invite', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme', network: 'bluesky' });
    const input = { identifier: 'acme.bsky.social', appPassword: APP_PASSWORD };

    // Act
    const outcomes = await Promise.all([
      refusal(connectBlueskyByInvite(deps, 'acme', tokenOf(url), input)),
      refusal(connectBlueskyByInvite(deps, 'acme', tokenOf(url), input)),
    ]);

    // Assess
    expect(outcomes.sort()).toEqual(['accepted', 'spent']);
    expect(logins).toBe(1);
  });

  it('finishes X on the hosted callback only with the state the invite waits for', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme', network: 'x' });
    const { authorizeUrl } = await startInviteAuthorization(deps, 'acme', tokenOf(url), { network: 'x' });
    const state = new URL(authorizeUrl).searchParams.get('state') ?? '';

    // Act
    const forged = await refusal(
      finishInviteAuthorization(deps, { state: `${state.slice(0, -2)}xx`, code: 'c' }),
    );
    const noState = await refusal(finishInviteAuthorization(deps, { code: 'c' }));
    const done = await finishInviteAuthorization(deps, { state, code: 'c' });
    const replay = await refusal(finishInviteAuthorization(deps, { state, code: 'c' }));

    // Assess
    expect(state.startsWith('acme~')).toBe(true);
    expect([forged, noState, replay]).toEqual(['tampered', 'malformed', 'spent']);
    expect(done.account).toMatchObject({ network: 'x', platformUserId: '777', handle: 'acme_x' });
    expect(new URL(authorizeUrl).searchParams.get('state')).toBe(state);
  });

  it('refuses an X start from a Bluesky-only invite', async () => {
    // Prepare
    const { url } = await createInvite(deps, ACTOR, { clientId: 'acme', network: 'bluesky' });

    // Act
    const start = startInviteAuthorization(deps, 'acme', tokenOf(url), { network: 'x' });

    // Assess
    await expect(start).rejects.toThrow(/for bluesky, not x/);
  });
});
