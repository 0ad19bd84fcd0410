import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../adapters/dynamo/client.ts';
import { defaultTableName, ensureTable } from '../adapters/dynamo/table.ts';
import { FollowbackError } from '../domain/errors.ts';

/**
 * DynamoDB on the developer's machine: dynalite in this process, on 127.0.0.1, persisted in LevelDB
 * under `path` (or in memory), with the followback table created. `npm start` uses
 * `.followback/dynamo`. Only one process can hold a LevelDB directory; a second one gets
 * LocalDynamoLockedError instead of dynalite's crash on its first request.
 */
export interface LocalDynamoOptions {
  /** LevelDB directory; absent: in memory, gone on close. */
  path?: string | undefined;
  /** Port on 127.0.0.1; 0 or absent: a free port. */
  port?: number | undefined;
  /** Table to ensure (default `followback`). */
  tableName?: string | undefined;
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  /** Stops the server, closes the database and releases its lock. Safe to call twice. */
  close(): Promise<void>;
}

/** Another process (or an unclosed start in this one) holds the LevelDB directory. */
export class LocalDynamoLockedError extends FollowbackError {
  override readonly name = 'LocalDynamoLockedError';
}

/** dynalite could not start (port taken, directory unusable). */
export class LocalDynamoStartError extends FollowbackError {
  override readonly name = 'LocalDynamoStartError';
}

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
type Dynalite = (options: DynaliteOptions) => Server;
interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}
type LevelClass = new (path: string) => LevelDb;

// dynalite ships no types and is CommonJS; `level` is its own dependency, resolved from it.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as Dynalite;
const Level = (createRequire(require.resolve('dynalite'))('level') as { Level: LevelClass }).Level;

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const tableName = options.tableName ?? defaultTableName;
  const path = options.path === undefined ? undefined : resolve(options.path);
  if (path !== undefined) {
    await mkdir(path, { recursive: true });
    await probeLock(path);
    await writeHolder(path);
  }
  const server = dynalite({
    ...(path === undefined ? {} : { path }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await listen(server, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoClient({ endpoint, region: 'us-east-1' });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      client.destroy();
      if (path !== undefined) await rm(holderFile(path), { force: true }).catch(() => undefined);
      await new Promise<void>((done, fail) => {
        server.close((error) => (error ? fail(error) : done()));
        // Keep-alive sockets of other clients would hold close() open.
        server.closeAllConnections();
      });
    })();
    return closing;
  };

  try {
    await ensureTable(client, tableName);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { endpoint, client, tableName, close };
}

/** Opens and closes the LevelDB directory once, to turn a held lock into a clear error. */
async function probeLock(path: string): Promise<void> {
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    if (code === 'LEVEL_LOCKED') {
      const holder = await readHolder(path);
      const who =
        holder === undefined
          ? 'another followback process (or a local DynamoDB in this one not yet closed)'
          : `process ${holder.pid} (\`followback ${holder.command}\`, since ${new Date(holder.since).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
      const hint =
        holder === undefined
          ? 'wait for the other command to finish, or stop it; `followback start` holds the store while it runs'
          : `wait for it to finish, or stop it (Ctrl-C in its terminal, or kill ${holder.pid}); then run this again`;
      throw new LocalDynamoLockedError(`the local store ${path} is in use by ${who}`, {
        cause: error,
        details: { path, hint, ...(holder === undefined ? {} : { pid: holder.pid }) },
      });
    }
    throw new LocalDynamoStartError(
      `cannot open the local database at ${path}: ${(error as Error).message}`,
      {
        cause: error,
        details: { path },
      },
    );
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** Who holds the store: written beside it while a process has it open, removed on close. */
interface Holder {
  pid: number;
  command: string;
  since: number;
}

const holderFile = (path: string) => `${path}.holder.json`;

async function writeHolder(path: string): Promise<void> {
  const holder: Holder = {
    pid: process.pid,
    command: process.argv.slice(2).join(' ') || 'node',
    since: Date.now(),
  };
  await writeFile(holderFile(path), JSON.stringify(holder), { mode: 0o600 }).catch(() => undefined);
}

/** The recorded holder, if the file is there and that process is still alive. */
async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse(await readFile(holderFile(path), 'utf8')) as Holder;
    if (!Number.isSafeInteger(holder.pid) || typeof holder.command !== 'string') return undefined;
    process.kill(holder.pid, 0);
    return { ...holder, command: holder.command.replace(/[^\w .,:/=@-]/g, '').slice(0, 120) };
  } catch {
    return undefined;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      const failure = new LocalDynamoStartError(
        `local DynamoDB cannot listen on 127.0.0.1:${port}: ${error.message}`,
        {
          cause: error,
          details: { port },
        },
      );
      // dynalite closes its database only when closing a listening server: listen anywhere, then close,
      // so that the LevelDB lock is released for the next attempt.
      server.listen(0, '127.0.0.1', () => server.close(() => fail(failure)));
    };
    const onListening = () => {
      server.off('error', onError);
      done();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}
