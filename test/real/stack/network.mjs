// The atproto reference network of `npm run test:real`, run by Node 22 in a child process of its
// own: @atproto/dev-env's TestNetwork (a did:plc mock, @atproto/pds, the @atproto/bsky AppView with
// bsync, ozone) on loopback, with the PDS's rate limits ON (Redis-backed, as a deployment runs them)
// and a bypass key for the seeder only. It prints one JSON line with its addresses when ready and
// serves a small control endpoint (POST /process: wait until the AppView has indexed everything the
// PDS sequenced). SIGTERM closes the network and exits.
//
// Environment: STACK_DIR (where dev-env is installed), DB_POSTGRES_URL, REDIS_HOST, BYPASS_KEY.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const stackDir = process.env.STACK_DIR;
const require = createRequire(join(stackDir, 'package.json'));
const { TestNetwork } = await import(pathToFileURL(require.resolve('@atproto/dev-env')).href);

const network = await TestNetwork.create({
  dbPostgresSchema: 'followback',
  pds: {
    rateLimitsEnabled: true,
    rateLimitBypassKey: process.env.BYPASS_KEY,
    redisScratchAddress: process.env.REDIS_HOST,
  },
});

let closing;
async function close() {
  closing ??= network.close().catch((error) => {
    process.stderr.write(`network close failed: ${error?.stack ?? error}\n`);
  });
  await closing;
}

const control = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/process') {
    network.processAll(20_000).then(
      () => {
        res.writeHead(204).end();
      },
      (error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error?.stack ?? error));
      },
    );
    return;
  }
  res.writeHead(404).end();
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    control.close();
    close().finally(() => process.exit(0));
  });
}
// The parent going away (a crash of the test run) ends the network too.
process.on('disconnect', () => {
  close().finally(() => process.exit(0));
});

process.stdout.write(
  `${JSON.stringify({
    ready: true,
    pds: network.pds.url,
    appview: network.bsky.url,
    plc: network.plc.url,
    control: `http://127.0.0.1:${control.address().port}`,
    adminPassword: 'admin-pass',
  })}\n`,
);
