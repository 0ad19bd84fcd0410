import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { MemoryRefreshLock } from '../../shared/adapters/memory/refresh-lock.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { XOAuthClient } from '../../shared/adapters/x/x-oauth-client.ts';
import { createXTokenProvider } from '../../shared/app/connect/token-provider.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';

/**
 * No secret in any output: a whole local run and a whole connect flow, with debug logs, are captured
 * and searched for every access and refresh token, the OAuth client secret, the authorization code
 * and the vault key; the state directory is searched for plain-text tokens.
 */

const execute = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/followback.mjs');
const CLIENT_SECRET = 'oauth-client-secret-DO-NOT-LOG-5c1f';
const dirs: string[] = [];
let sandbox: XSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'followback-secrets-'));
  dirs.push(dir);
  return dir;
}

/** The credentials stored in a local state directory, opened with its vault. */
async function storedSecrets(dir: string): Promise<string[]> {
  const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
  try {
    const vault = await LocalVault.inDirectory(dir);
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName });
    const credentials = new DynamoCredentialStore({
      client: dynamo.client,
      tableName: dynamo.tableName,
      vault,
    });
    const secrets: string[] = [];
    for (const account of await store.listAccounts()) {
      const stored = await credentials.get(account, account.network);
      if (stored === undefined) continue;
      secrets.push(stored.credentials.accessToken);
      if (stored.credentials.refreshToken) secrets.push(stored.credentials.refreshToken);
      if (stored.credentials.appPassword) secrets.push(stored.credentials.appPassword);
    }
    return secrets;
  } finally {
    await dynamo.close();
  }
}

/** Every file under `dir`, as bytes read as latin1 (so binary files can be searched too). */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path, (await readFile(path)).toString('latin1'));
  }
  return files;
}

function expectAbsent(output: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(8);
    expect(output.includes(secret), `a secret (${secret.slice(0, 6)}...) appears in the output`).toBe(false);
  }
}

describe('no secret in logs or output', () => {
  it('a local run with debug logs prints no token or vault key, and keeps no token in plain text', async () => {
    // Prepare
    const dir = await tempDir();

    // Act
    const { stdout, stderr } = await execute(process.execPath, [bin, 'start', '--days', '1', '--dir', dir], {
      timeout: 120_000,
      env: { ...process.env, LOG_LEVEL: 'debug' },
      maxBuffer: 256 * 1024 * 1024,
    });

    // Assess
    const tokens = await storedSecrets(dir);
    const vaultKey = (await readFile(join(dir, 'vault.key'), 'utf8')).trim();
    // Two X tokens; Bluesky's access and refresh JWT and app password; the Mastodon token.
    expect(tokens).toHaveLength(6);
    expect(stderr.split('\n').filter((line) => line.startsWith('{')).length).toBeGreaterThan(5);
    expectAbsent(`${stdout}\n${stderr}`, [...tokens, vaultKey]);
    const world = JSON.parse(await readFile(join(dir, 'world.json'), 'utf8'));
    expect(world.credentials).toBeUndefined();
    for (const [path, bytes] of await filesUnder(dir)) {
      if (path.endsWith('vault.key')) continue;
      expectAbsent(bytes, tokens);
    }
  }, 180_000);

  it('a connect flow with debug logs prints no token, client secret or authorization code', async () => {
    // Prepare: the X sandbox (with OAuth) in this process; the CLI in a child process
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
    const world = createWorld({ seed: 11, clock, orderNoise: 0 });
    const owner = world.addOwner({
      handle: 'acmebakery',
      initialFollowers: 20,
      initialFollowing: 5,
      followersPerDay: 0,
    });
    sandbox = await startXSandbox({
      world,
      oauth: {
        clients: [{ clientId: 'followback-cli', clientSecret: CLIENT_SECRET }],
        consentingUser: owner.id,
      },
    });
    const dir = await tempDir();
    const env = {
      ...process.env,
      LOG_LEVEL: 'debug',
      X_CLIENT_ID: 'followback-cli',
      X_CLIENT_SECRET: CLIENT_SECRET,
      X_AUTHORIZE_URL: `${sandbox.baseUrl}/i/oauth2/authorize`,
      X_TOKEN_URL: `${sandbox.baseUrl}/2/oauth2/token`,
      X_API_BASE_URL: sandbox.baseUrl,
    };
    await execute(
      process.execPath,
      [bin, 'client', 'add', 'acme', '--time-zone', 'UTC', '--local', '--dir', dir],
      {
        env,
        timeout: 60_000,
      },
    );

    // Act: run `connect`, play the browser on the URL it prints, let it finish
    const child = spawn(
      process.execPath,
      [bin, 'connect', 'x', '--client', 'acme', '--no-browser', '--local', '--dir', dir],
      {
        env,
      },
    );
    const output = collect(child);
    const authorizeUrl = await firstLine(output, /^https?:\/\//);
    const approval = await fetch(authorizeUrl, { redirect: 'manual' });
    const redirect = new URL(approval.headers.get('location')!);
    const landing = await fetch(redirect);
    const code = await exitCode(child);

    // Assess: connected, and none of the secrets in what it printed or logged
    expect(landing.status).toBe(200);
    expect(code).toBe(0);
    expect(output.stdout).toContain(`connected @acmebakery (X user ${owner.id}) as acme/x-acmebakery`);
    expect(output.stderr).toContain('"message":"account connected"');
    const tokens = await storedSecrets(dir);
    expect(tokens).toHaveLength(2);
    expect(sandbox.oauth.inspect(tokens[0]!)?.valid).toBe(true);
    const vaultKey = (await readFile(join(dir, 'vault.key'), 'utf8')).trim();
    expectAbsent(`${output.stdout}\n${output.stderr}`, [
      ...tokens,
      CLIENT_SECRET,
      redirect.searchParams.get('code')!,
      vaultKey,
    ]);

    // And a refresh of those tokens, logged at debug, logs none of the old or new ones
    const lines: string[] = [];
    const later = { now: () => Date.now() + 3 * 3_600_000 };
    const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
    try {
      const credentials = new DynamoCredentialStore({
        client: dynamo.client,
        tableName: dynamo.tableName,
        vault: await LocalVault.inDirectory(dir),
      });
      const oauthClient = new XOAuthClient({
        clientId: 'followback-cli',
        clientSecret: CLIENT_SECRET,
        authorizeUrl: env.X_AUTHORIZE_URL,
        tokenUrl: env.X_TOKEN_URL,
        clock: later,
      });
      const refreshed = await createXTokenProvider({
        credentials,
        ref: { clientId: 'acme', accountId: 'x-acmebakery' },
        oauthClient,
        clock: later,
        lock: new MemoryRefreshLock(),
        logger: new MemoryLogger(lines, 'debug'),
      })();
      const pair = await credentials.get({ clientId: 'acme', accountId: 'x-acmebakery' }, 'x');
      expect(refreshed).toBe(pair?.credentials.accessToken);
      expect(lines.some((line) => line.includes('access token refreshed and stored'))).toBe(true);
      expectAbsent(lines.join('\n'), [...tokens, refreshed, pair!.credentials.refreshToken!, CLIENT_SECRET]);
    } finally {
      await dynamo.close();
    }
  }, 120_000);
});

interface Collected {
  stdout: string;
  stderr: string;
  onData: Set<() => void>;
}

function collect(child: ChildProcess): Collected {
  const collected: Collected = { stdout: '', stderr: '', onData: new Set() };
  child.stdout!.on('data', (chunk: Buffer) => {
    collected.stdout += chunk.toString('utf8');
    for (const listener of collected.onData) listener();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    collected.stderr += chunk.toString('utf8');
  });
  return collected;
}

function firstLine(output: Collected, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no line like ${pattern} in: ${output.stdout}${output.stderr}`)),
      30_000,
    );
    const check = () => {
      const line = output.stdout.split('\n').find((l) => pattern.test(l.trim()));
      if (line === undefined) return;
      clearTimeout(timer);
      output.onData.delete(check);
      resolve(line.trim());
    };
    output.onData.add(check);
    check();
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
