import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { createWorld, type JournalEntry, World } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../adapters/clock.ts';
import { DynamoStore } from '../adapters/dynamo/store.ts';
import { XPlatform } from '../adapters/x/x-platform.ts';
import { parseConfig } from '../config/validate.ts';
import type { AccountRecord } from '../domain/account.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Platform } from '../ports/platform.ts';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo.ts';

/**
 * The local runtime: the same use cases as on AWS, wired to dynalite persisted under `dir`, the X
 * sandbox on loopback, and a virtual clock. The sandbox world is persisted as its seed and journal
 * (`world.json`), so a second run continues where the first stopped.
 */
export interface LocalRuntime {
  dir: string;
  store: DynamoStore;
  clock: VirtualClock;
  world: World;
  sandbox: XSandbox;
  dynamo: LocalDynamo;
  /** True when this run created the state (first run or --reset). */
  fresh: boolean;
  /** Sandbox credentials per account (the local stand-in for connected accounts). */
  credentials: Map<string, string>;
  platformFor(account: AccountRecord): Platform;
  connect(account: AccountRecord, token: string): void;
  save(): Promise<void>;
  close(): Promise<void>;
}

const persistedSchema = z.object({
  version: z.literal(1),
  seed: z.number().int(),
  start: z.number(),
  now: z.number(),
  journal: z.array(z.any()),
  credentials: z.record(z.string(), z.string()),
});

/** 2026-11-02T09:00:00Z, a Monday: simulations start on a week boundary. */
export const DEFAULT_START = Date.UTC(2026, 10, 2, 9, 0, 0);

export interface OpenLocalOptions {
  dir: string;
  reset?: boolean;
  seed?: number;
  start?: number;
}

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
  const credentials = new Map(Object.entries(persisted?.credentials ?? {}));

  const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
  const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock });
  const sandbox = await startXSandbox({ world, clock });

  const runtime: LocalRuntime = {
    dir,
    store,
    clock,
    world,
    sandbox,
    dynamo,
    fresh: persisted === undefined,
    credentials,
    platformFor(account) {
      const token = credentials.get(credentialKey(account));
      if (token === undefined) {
        throw new ConfigError(`account ${account.clientId}/${account.accountId} is not connected locally`);
      }
      return new XPlatform({ baseUrl: sandbox.baseUrl, accessToken: token, timeoutMs: 5_000 });
    },
    connect(account, token) {
      credentials.set(credentialKey(account), token);
    },
    async save() {
      const body = {
        version: 1,
        seed,
        start,
        now: clock.now(),
        journal: world.journal(),
        credentials: Object.fromEntries(credentials),
      };
      await writeFile(worldFile, JSON.stringify(body));
    },
    async close() {
      await runtime.save();
      await sandbox.close();
      await dynamo.close();
    },
  };
  return runtime;
}

function credentialKey(account: AccountRecord): string {
  return `${account.clientId}/${account.accountId}`;
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
