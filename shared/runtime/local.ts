import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlueskySandbox, startBlueskySandbox } from '../../sandbox/bluesky/server.ts';
import { type MastodonSandbox, startMastodonSandbox } from '../../sandbox/mastodon/server.ts';
import { SandboxStats } from '../../sandbox/stats.ts';
import { createWorld, type JournalEntry, World } from '../../sandbox/world.ts';
import { SANDBOX_TOKEN_PATH } from '../../sandbox/x/oauth.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../adapters/clock.ts';
import { DynamoCredentialStore } from '../adapters/dynamo/credential-store.ts';
import { DynamoRefreshLock } from '../adapters/dynamo/refresh-lock.ts';
import { DynamoStore } from '../adapters/dynamo/store.ts';
import { LocalVault } from '../adapters/vault/local-vault.ts';
import { XOAuthClient, xOAuthApps } from '../adapters/x/x-oauth-client.ts';
import { xTokenRefresherFor } from '../app/connect/x-apps.ts';
import { parseConfig } from '../config/validate.ts';
import * as z from '../config/zod.ts';
import type { AccountRecord, AccountRef } from '../domain/account.ts';
import { ConfigError } from '../domain/errors.ts';
import type { CredentialVault } from '../ports/credentials.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo.ts';
import { createPlatformFactory, type PlatformFactory } from './platforms.ts';

/**
 * The local runtime: the same use cases as on AWS, wired to dynalite persisted under `dir`, the X,
 * Bluesky and Mastodon sandboxes on loopback (one world behind all three), and a virtual clock. The
 * sandbox world is persisted as its seed and journal (`world.json`), so a second run continues where
 * the first stopped: the journal replays the world's tokens (X demo tokens, Mastodon OAuth tokens),
 * and Bluesky sessions are signed with a key derived from the seed, so stored ones stay valid.
 *
 * Credentials are kept as on AWS: sealed by a vault (here AES-256-GCM with the key in
 * `<dir>/vault.key`, mode 0600) in the table's credential items, with the account as the vault
 * context. Platforms come from the same factory as on AWS (shared/runtime/platforms.ts): X tokens
 * refreshed under the account's lock (the sandbox's token endpoint, client id `followback-local`),
 * Bluesky sessions resumed and every refreshed one stored, Mastodon tokens as stored. Every account
 * of a network goes to that network's sandbox, whatever instance URL it was connected with (the
 * sandboxes listen on a new port each run). A `world.json` of an earlier version with plain-text
 * `credentials` is migrated into the vault on open and no longer written.
 */
export interface LocalRuntime {
  dir: string;
  store: DynamoStore;
  clock: VirtualClock;
  world: World;
  /** The X sandbox. */
  sandbox: XSandbox;
  bluesky: BlueskySandbox;
  mastodon: MastodonSandbox;
  dynamo: LocalDynamo;
  /** True when this run created the state (first run or --reset). */
  fresh: boolean;
  /** The local vault (AES-256-GCM, key in `<dir>/vault.key`). */
  vault: LocalVault;
  /** Connected accounts' credentials, sealed by the vault, in the table. */
  credentials: DynamoCredentialStore;
  /** The sandbox's OAuth token endpoint, for refreshing tokens. */
  oauthClient: XOAuthClient;
  /** The account's network on its sandbox, with its stored credentials (refreshed when they must be). */
  platformFor(account: AccountRecord): Platform;
  /** The factory behind `platformFor` (`platforms.open(account)` opens the credentials first). */
  platforms: PlatformFactory;
  /**
   * Stores a token for the account through the vault (a sandbox token issued by the world). Returns
   * when it is stored; `save()` and `platformFor` also wait for it.
   */
  connect(account: AccountRecord, token: string): Promise<void>;
  save(): Promise<void>;
  close(): Promise<void>;
}

const persistedSchema = z.object({
  version: z.literal(1),
  seed: z.number().check(z.int()),
  start: z.number(),
  now: z.number(),
  journal: z.array(z.any()),
  /** Plain-text tokens of an earlier version: migrated into the vault on open, never written again. */
  credentials: z.optional(z.record(z.string(), z.string())),
});

/** 2026-11-02T09:00:00Z, a Monday: simulations start on a week boundary. */
export const DEFAULT_START = Date.UTC(2026, 10, 2, 9, 0, 0);

export interface OpenLocalOptions {
  dir: string;
  reset?: boolean;
  seed?: number;
  start?: number;
  /** Logs token refreshes (never the tokens). */
  logger?: Logger;
}

/** The OAuth client id the local runtime uses on the sandbox (a public client). */
export const LOCAL_OAUTH_CLIENT_ID = 'followback-local';

export async function openLocalRuntime(options: OpenLocalOptions): Promise<LocalRuntime> {
  const dir = options.dir;
  const worldFile = join(dir, 'world.json');
  if (options.reset) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  const persisted = await readPersisted(worldFile);
  const seed = persisted?.seed ?? options.seed ?? 20261102;
  const start = persisted?.start ?? options.start ?? DEFAULT_START;
  const clock = new VirtualClock(start);
  const world = persisted
    ? World.replay({ seed, clock }, start, persisted.journal as JournalEntry[])
    : createWorld({ seed, clock });
  if (persisted) clock.set(Math.max(persisted.now, clock.now()));

  const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
  const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock });
  const vault = await LocalVault.inDirectory(dir);
  const credentials = new DynamoCredentialStore({
    client: dynamo.client,
    tableName: dynamo.tableName,
    vault,
    clock,
  });
  const lock = new DynamoRefreshLock({ client: dynamo.client, tableName: dynamo.tableName });
  const sandbox = await startXSandbox({ world, clock });
  const bluesky = await startBlueskySandbox({ world, clock });
  // Its own counters: X and Mastodon share endpoint names.
  const mastodon = await startMastodonSandbox({ world, clock, stats: new SandboxStats() });
  const oauthClient = new XOAuthClient({
    clientId: LOCAL_OAUTH_CLIENT_ID,
    authorizeUrl: `${sandbox.baseUrl}/i/oauth2/authorize`,
    tokenUrl: `${sandbox.baseUrl}${SANDBOX_TOKEN_PATH}`,
    clock,
  });
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    const done = () => pending.delete(work);
    work.then(done, done);
    return work;
  };
  const settled = async () => {
    while (pending.size > 0) await Promise.all([...pending]);
  };
  for (const [key, token] of Object.entries(persisted?.credentials ?? {})) {
    await migrateCredential(credentials, key, token);
  }
  // Platforms read credentials only after the stores `connect` started have landed.
  const vaultAfterConnects: CredentialVault = {
    async get(ref, network) {
      await settled();
      return credentials.get(ref, network);
    },
    put: (ref, network, value, expectedVersion) => credentials.put(ref, network, value, expectedVersion),
  };
  const platforms = createPlatformFactory({
    credentials: vaultAfterConnects,
    lock,
    clock,
    logger: options.logger,
    timeoutMs: 5_000,
    x: {
      apiBaseUrl: sandbox.baseUrl,
      oauthClient,
      // A client's own X app (clients.yaml `xApp`) refreshes its accounts' tokens.
      oauthClientFor: (account) =>
        account.network === 'x' && account.xAppClientId !== undefined
          ? xTokenRefresherFor(
              {
                registry: store,
                credentials,
                deployment: { clientId: LOCAL_OAUTH_CLIENT_ID },
                oauthApp: xOAuthApps({
                  authorizeUrl: `${sandbox.baseUrl}/i/oauth2/authorize`,
                  tokenUrl: `${sandbox.baseUrl}${SANDBOX_TOKEN_PATH}`,
                  clock,
                }),
              },
              account,
            )
          : undefined,
    },
    bluesky: { serviceFor: () => bluesky.baseUrl },
    mastodon: { urlFor: () => mastodon.baseUrl },
  });

  const runtime: LocalRuntime = {
    dir,
    store,
    clock,
    world,
    sandbox,
    bluesky,
    mastodon,
    dynamo,
    fresh: persisted === undefined,
    vault,
    credentials,
    oauthClient,
    platforms,
    platformFor: (account) => platforms(account),
    connect(account, token) {
      const ref: AccountRef = { clientId: account.clientId, accountId: account.accountId };
      return track(credentials.put(ref, account.network, { accessToken: token }).then(() => undefined));
    },
    async save() {
      await settled();
      const body = {
        version: 1,
        seed,
        start,
        now: clock.now(),
        journal: world.journal(),
      };
      await writeFile(worldFile, JSON.stringify(body));
    },
    async close() {
      await runtime.save();
      await Promise.all([sandbox.close(), bluesky.close(), mastodon.close()]);
      await dynamo.close();
    },
  };
  return runtime;
}

/** Moves a plain-text token of an earlier world.json into the vault, unless one is stored already. */
async function migrateCredential(
  credentials: DynamoCredentialStore,
  key: string,
  token: string,
): Promise<void> {
  const [clientId, accountId, ...rest] = key.split('/');
  if (!clientId || !accountId || rest.length > 0) return;
  const ref = { clientId, accountId };
  if ((await credentials.get(ref, 'x')) !== undefined) return;
  await credentials.put(ref, 'x', { accessToken: token });
}

async function readPersisted(file: string): Promise<z.infer<typeof persistedSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${file} is not valid JSON; run with --reset to start over`, { cause });
  }
  return parseConfig(persistedSchema, json, file);
}

/** The virtual time a local run reached, for commands that act on its state between runs. */
export async function readLocalClock(dir: string): Promise<number | undefined> {
  return (await readPersisted(join(dir, 'world.json')))?.now;
}
