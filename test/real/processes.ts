/**
 * Starts what the real network needs, each as a child process of its own on loopback, and stops
 * exactly those, by process id (never by name): PostgreSQL (Debian's, a throw-away cluster in a temp
 * folder, run as the `postgres` user since it refuses root), Redis (Debian's, no persistence), and
 * the Node 22 child that runs the TestNetwork (network.mjs). `stop` is safe to call twice and after a
 * failed start; a start that fails half way stops what it had started.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackInstall } from './install.ts';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'stack');

export interface RealStackInfo {
  /** The PDS (the adapters' `service`). */
  pds: string;
  appview: string;
  plc: string;
  /** POST /process: the AppView has indexed all the PDS sequenced. */
  control: string;
  adminPassword: string;
  /** Header value that lets the seeder past the PDS's rate limits (never used by the adapters). */
  bypassKey: string;
}

export interface RunningStack {
  info: RealStackInfo;
  pids: { postgres: number; redis: number; network: number };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(
  port: number,
  what: string,
  child: ChildProcess,
  timeoutMs = 30_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it listened`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const path = join(root, version, 'bin', name);
    if (existsSync(path)) return path;
  }
  throw new Error(`PostgreSQL's ${name} is not installed: apt-get install -y postgresql redis-server`);
}

function redisBin(): string {
  for (const path of ['/usr/bin/redis-server', '/usr/local/bin/redis-server'])
    if (existsSync(path)) return path;
  throw new Error('redis-server is not installed: apt-get install -y postgresql redis-server');
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Ends one child by its id: `signal`, then SIGKILL after `graceMs`. */
async function end(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(chunks: string[]): string {
  return chunks.join('').split('\n').slice(-30).join('\n');
}

export async function startStack(install: StackInstall, log: (line: string) => void): Promise<RunningStack> {
  const children: { name: string; child: ChildProcess; signal: NodeJS.Signals }[] = [];
  const temp = mkdtempSync(join(tmpdir(), 'followback-real-'));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The network first (it holds connections to both), then Redis, then PostgreSQL.
    for (const { child, signal } of [...children].reverse()) await end(child, signal);
    rmSync(temp, { recursive: true, force: true });
  };
  const onExit = () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  try {
    // PostgreSQL: a cluster of its own, trust auth on loopback, no fsync (a test database).
    const pgData = join(temp, 'pg');
    const postgresUser = userIds('postgres');
    const asPostgres: { uid?: number; gid?: number } =
      process.getuid?.() === 0 && postgresUser ? postgresUser : {};
    mkdirSync(pgData);
    if (asPostgres.uid !== undefined && asPostgres.gid !== undefined) {
      chownSync(temp, asPostgres.uid, asPostgres.gid);
      chownSync(pgData, asPostgres.uid, asPostgres.gid);
    }
    const init = spawnSync(
      postgresBin('initdb'),
      ['-D', pgData, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
      { ...asPostgres, encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    const pgPort = await freePort();
    const pgOut: string[] = [];
    const postgres = spawn(
      postgresBin('postgres'),
      [
        '-D',
        pgData,
        '-p',
        String(pgPort),
        '-k',
        temp,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=300',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { ...asPostgres, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    postgres.stdout?.on('data', (data) => pgOut.push(String(data)));
    postgres.stderr?.on('data', (data) => pgOut.push(String(data)));
    children.push({ name: 'postgres', child: postgres, signal: 'SIGINT' });
    await waitForPort(pgPort, 'postgres', postgres).catch((error: Error) => {
      throw new Error(`${error.message}\n${tail(pgOut)}`);
    });
    log(`real stack: postgres pid ${postgres.pid} on 127.0.0.1:${pgPort}`);

    const redisPort = await freePort();
    const redis = spawn(
      redisBin(),
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', temp],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push({ name: 'redis', child: redis, signal: 'SIGTERM' });
    await waitForPort(redisPort, 'redis', redis);
    log(`real stack: redis pid ${redis.pid} on 127.0.0.1:${redisPort}`);

    const bypassKey = `seed-${process.pid}-${Date.now()}`;
    const netOut: string[] = [];
    const network = spawn(install.node, [join(HERE, 'network.mjs')], {
      cwd: install.dir,
      env: {
        ...process.env,
        STACK_DIR: install.dir,
        DB_POSTGRES_URL: `postgresql://postgres@127.0.0.1:${pgPort}/postgres`,
        REDIS_HOST: `127.0.0.1:${redisPort}`,
        BYPASS_KEY: bypassKey,
        LOG_ENABLED: 'false',
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.push({ name: 'network', child: network, signal: 'SIGTERM' });
    network.stderr?.on('data', (data) => netOut.push(String(data)));
    const info = await new Promise<RealStackInfo>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(
        () => reject(new Error(`the network did not start in 180 s\n${tail(netOut)}`)),
        180_000,
      );
      network.stdout?.on('data', (data) => {
        buffered += String(data);
        for (const line of buffered.split('\n')) {
          if (!line.startsWith('{"ready":true')) continue;
          clearTimeout(timer);
          const parsed = JSON.parse(line) as Omit<RealStackInfo, 'bypassKey'>;
          resolve({ ...parsed, bypassKey });
        }
      });
      network.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the network exited (${code}) before it was ready\n${tail(netOut)}`));
      });
    });
    log(`real stack: network pid ${network.pid}: PDS ${info.pds}, AppView ${info.appview}`);
    return {
      info,
      pids: { postgres: postgres.pid!, redis: redis.pid!, network: network.pid! },
      stop: async () => {
        process.off('exit', onExit);
        await stop();
      },
    };
  } catch (error) {
    process.off('exit', onExit);
    await stop();
    throw error;
  }
}
