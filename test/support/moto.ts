import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * moto server on loopback, for suites that run against it where python3 with moto is installed.
 * The server runs under a small Python wrapper that exits when its parent (the test worker) is gone,
 * so a killed test run leaves no moto behind; normal teardown stops it with SIGTERM, and the worker's
 * `exit` also kills it.
 */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

let available: boolean | undefined;

/** Whether `python3 -c "import moto.server"` succeeds (checked once per process). */
export function motoAvailable(): boolean {
  available ??=
    spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
  return available;
}

const wrapper = `
import os, sys, threading, time
parent = os.getppid()
def watch():
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`;

export async function startMoto(options: { startTimeoutMs?: number } = {}): Promise<MotoServer> {
  let lastError: unknown;
  // A free port found now may be taken before moto binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOn(port: number, timeoutMs: number): Promise<MotoServer> {
  const child = spawn('python3', ['-c', wrapper, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let tail = '';
  // moto logs every request on stderr: read it all (a full pipe would block the server), keep the end.
  child.stderr?.on('data', (data: Buffer) => {
    tail = (tail + data.toString()).slice(-4_000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== undefined) {
      process.off('exit', killOnExit);
      throw new Error(`moto server exited with ${exitCode} before answering:\n${tail}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stopChild(child, exited);
      process.off('exit', killOnExit);
      throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs} ms:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop: () => {
      stopping ??= stopChild(child, exited).finally(() => process.off('exit', killOnExit));
      return stopping;
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
