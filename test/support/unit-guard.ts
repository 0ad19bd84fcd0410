/**
 * Setup file of the `unit` project (vitest.config.ts): a unit test runs in process, so opening a
 * socket (dynalite, moto, a sandbox, a browser, any server or client) or starting a process fails it
 * at once, naming the file's place in the wrong project. Integration and e2e projects do not load it.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);

class UnitBoundaryError extends Error {
  override name = 'UnitBoundaryError';
}

function refuse(what: string): never {
  throw new UnitBoundaryError(
    `a unit test may not ${what}: move this file to the integration or e2e project (vitest.config.ts)`,
  );
}

net.Server.prototype.listen = function listen(): never {
  refuse('listen on a socket');
};
net.Socket.prototype.connect = function connect(): never {
  refuse('open a socket');
};

const childProcess = require('node:child_process') as Record<string, unknown>;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  childProcess[name] = () => refuse(`start a process (child_process.${name})`);
}
syncBuiltinESMExports();
