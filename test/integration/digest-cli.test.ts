import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { SAMPLE_NOW, seedDigestSample } from '../../shared/runtime/digest-sample.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/followback.mjs');
let dir: string | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((done) => child?.once('exit', done));
  }
  child = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function followback(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [bin, ...args], { timeout: 60_000 });
  return stdout;
}

/** A local state directory as `npm start` leaves it, holding the sample client, at its virtual time. */
async function seededDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'followback-digest-cli-'));
  const dynamo = await startLocalDynamo({ path: join(path, 'dynamo') });
  try {
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName });
    await seedDigestSample({
      store,
      samples: new DynamoDigestStore({ client: dynamo.client, tableName: dynamo.tableName }),
    });
  } finally {
    await dynamo.close();
  }
  await writeFile(
    join(path, 'world.json'),
    JSON.stringify({ version: 1, seed: 1, start: SAMPLE_NOW, now: SAMPLE_NOW, journal: [] }),
  );
  return path;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('followback digest and serve', () => {
  it('previews without sending, then sends the due digest and the roll-up into the outbox once', async () => {
    // Prepare
    dir = await seededDir();
    // Act
    const preview = await followback('digest', 'preview', '--local', '--dir', dir);
    const first = await followback('digest', 'send', '--local', '--dir', dir);
    const second = await followback('digest', 'send', '--local', '--dir', dir);
    // Assess
    expect(preview).toContain('Sunrise Bakery (sunrise), 2026-03-02');
    // The period in the client's zone, to the minute: no UTC ISO stamps.
    expect(preview).toMatch(/\(2026-03-02 00:00 [A-Z+0-9:-]+ – 2026-03-09 00:00 [A-Z+0-9:-]+\): not sent/);
    expect(preview).not.toMatch(/T\d\d:\d\dZ/);
    expect(preview).toContain(`${join(dir, 'outbox', 'sunrise', '2026-03-02-preview.eml')}`);
    expect(preview).toMatch(/approve http:\/\/127\.0\.0\.1:8787\/approve\/sunrise\?t=/);
    expect(first).toContain(
      `sunrise 2026-03-02: sent -> ${join(dir, 'outbox', 'sunrise', '2026-03-02-digest.eml')}`,
    );
    expect(first).toMatch(/roll-up 2026-03-02: sent/);
    expect(second).toContain('no digest is due now');
    expect(second).toContain('roll-up 2026-03-02: already_sent');
    expect((await readdir(join(dir, 'outbox', 'sunrise'))).sort()).toEqual([
      '2026-03-02-digest.eml',
      '2026-03-02-digest.html',
      '2026-03-02-preview.eml',
      '2026-03-02-preview.html',
    ]);
    expect((await stat(join(dir, 'approval.key'))).mode & 0o777).toBe(0o600);
  });

  it('serves the approval page for a link of the previewed digest on loopback', async () => {
    // Prepare
    dir = await seededDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const preview = JSON.parse(
      await followback('digest', 'preview', '--local', '--dir', dir, '--base-url', base, '--json'),
    ) as { approvalLinks: string[] }[];
    const link = preview[0]!.approvalLinks[0]!;
    // Act
    child = spawn(process.execPath, [bin, 'serve', '--local', '--dir', dir, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((ready, fail) => {
      child?.stdout?.on('data', (data: Buffer) => {
        if (data.toString().includes('approval page served at')) ready();
      });
      child?.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    });
    const page = await fetch(link);
    const body = await page.text();
    child.kill('SIGTERM');
    const code = await new Promise((done) => child?.once('exit', done));
    // Assess
    expect(link.startsWith(`${base}/approve/sunrise?t=`)).toBe(true);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${base}`);
    expect(body).toContain('Follow-backs waiting for approval');
    expect(code).toBe(0);
  });
});
