import type { Command } from 'commander';
import { printJson, type StoreOptions } from '../context.ts';

/**
 * `followback invite --client C [--network x|bluesky|mastodon]`: a signed, expiring, single-use
 * link the client opens in their own browser to connect an account (the console has the same
 * button). Links point at `--base-url`, else the local console (`followback serve --local`), else
 * `CONSOLE_BASE_URL` (the deployment's console Function URL).
 *
 * `followback serve --local` serves the operator console, the invite pages and the OAuth callback
 * beside the approval page on loopback, and prints a one-time sign-in link (see serveConsoleCommand).
 */
export function register(program: Command): void {
  program
    .command('invite')
    .description('make a single-use invite link: the client connects an account from their own browser')
    .requiredOption('--client <id>', 'the client')
    .option('--network <network>', 'only this network: x, bluesky or mastodon')
    .option('--days <n>', 'days the link stays valid (1-30)', '7')
    .option('--base-url <url>', 'the console address the link points at')
    .option('--local', 'use the local store of `npm start` instead of the deployed table', false)
    .option('--dir <path>', 'where the local state is kept (with --local)', '.followback')
    .option('--json', 'print JSON for scripts', false)
    .action(async (options: InviteOptions) => {
      await inviteCommand(options);
    });
}

interface InviteOptions extends StoreOptions {
  client: string;
  network?: string;
  days: string;
  baseUrl?: string;
  json: boolean;
  dir: string;
}

export async function inviteCommand(options: InviteOptions): Promise<void> {
  const [{ resolve }, { openContext }, { createInvite }, { DynamoConsoleStore }, { ValidationError }] =
    await Promise.all([
      import('node:path'),
      import('../context.ts'),
      import('../../shared/app/invites/invites.ts'),
      import('../../shared/adapters/dynamo/console-store.ts'),
      import('../../shared/domain/errors.ts'),
    ]);
  const days = Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 30)
    throw new ValidationError('--days must be a whole number from 1 to 30');
  if (options.network !== undefined && !['x', 'bluesky', 'mastodon'].includes(options.network)) {
    throw new ValidationError(`--network must be x, bluesky or mastodon, got "${options.network}"`);
  }
  const keys = await signingKeys(options);
  const baseUrl =
    options.baseUrl ??
    (options.local
      ? (await import('../../shared/runtime/approval-server.ts')).localApprovalBaseUrl()
      : process.env.CONSOLE_BASE_URL);
  if (baseUrl === undefined || baseUrl === '') {
    throw new ValidationError('CONSOLE_BASE_URL (the ConsoleUrl stack output) or --base-url is required');
  }
  const context = await openContext({ ...options, dir: resolve(options.dir) });
  try {
    const store = new DynamoConsoleStore(context.table);
    const created = await createInvite(
      { registry: context.store, invites: store, audit: store, keys, clock: context.clock, baseUrl },
      { kind: 'cli', id: 'cli' },
      {
        clientId: options.client,
        network: options.network as 'x' | 'bluesky' | 'mastodon' | undefined,
        ttlMs: days * 86_400_000,
      },
    );
    if (options.json) {
      printJson({
        url: created.url,
        inviteId: created.invite.inviteId,
        expiresAt: new Date(created.invite.expiresAt).toISOString(),
      });
    } else {
      process.stdout.write(
        `invite for ${options.client}${options.network === undefined ? '' : ` (${options.network})`}, single use, valid until ${new Date(created.invite.expiresAt).toISOString()}:\n  ${created.url}\n`,
      );
    }
  } finally {
    await context.close();
  }
}

async function signingKeys(options: { local?: boolean | undefined; dir: string }) {
  const { resolve } = await import('node:path');
  if (options.local) {
    const { loadLocalApprovalKeys } = await import('../../shared/runtime/approval-key.ts');
    return loadLocalApprovalKeys(resolve(options.dir));
  }
  const { parseApprovalKeys } = await import('../../shared/app/approval/keys.ts');
  const value = process.env.APPROVAL_SIGNING_KEY;
  if (value === undefined || value === '') {
    const { ConfigError } = await import('../../shared/domain/errors.ts');
    throw new ConfigError(
      'APPROVAL_SIGNING_KEY is required (the approval signing key secret of the deployment)',
    );
  }
  return parseApprovalKeys(value);
}

/**
 * `followback serve --local`: the console, the invite pages and the OAuth callback beside the
 * approval page on 127.0.0.1, with a one-time sign-in link printed on start. Connects use the
 * networks the environment names (X when X_CLIENT_ID is set, with the callback
 * `<base>/oauth/callback` registered in the X app; any Mastodon instance; BLUESKY_SERVICE).
 */
export async function serveConsoleCommand(options: {
  port: number;
  baseUrl?: string | undefined;
  dir: string;
}): Promise<void> {
  const [
    { resolve },
    { openContext },
    { systemClock },
    { JsonLogger },
    { DynamoDigestStore },
    { LocalVault },
    { LocalConsoleAuth },
    { startWebServer, wireWeb },
    { createPlatformFactory },
    { DynamoRefreshLock },
    { loadRuntimeEnv },
    { LOCAL_AGENCY },
    { XPlatform },
    { createMastodonOAuth },
    { blueskyLogin },
  ] = await Promise.all([
    import('node:path'),
    import('../context.ts'),
    import('../../shared/adapters/clock.ts'),
    import('../../shared/adapters/logger.ts'),
    import('../../shared/adapters/dynamo/digest-store.ts'),
    import('../../shared/adapters/vault/local-vault.ts'),
    import('../../shared/adapters/web/local-auth.ts'),
    import('../../shared/runtime/console-server.ts'),
    import('../../shared/runtime/platforms.ts'),
    import('../../shared/adapters/dynamo/refresh-lock.ts'),
    import('../../shared/config/env.ts'),
    import('../../shared/app/digest/preview.ts'),
    import('../../shared/adapters/x/x-platform.ts'),
    import('../../shared/adapters/mastodon/mastodon-oauth.ts'),
    import('../../shared/adapters/bluesky/bluesky-login.ts'),
  ]);
  const dir = resolve(options.dir);
  const env = loadRuntimeEnv();
  const logger = new JsonLogger({ level: env.LOG_LEVEL });
  const keys = await signingKeys({ local: true, dir });
  const context = await openContext({ local: true, dir });
  const credentials = await context.credentials();
  const vault = await LocalVault.inDirectory(dir);
  const platforms = createPlatformFactory({
    credentials,
    lock: new DynamoRefreshLock(context.table),
    clock: context.clock,
    logger,
    x: { apiBaseUrl: env.X_API_BASE_URL },
    bluesky: { service: env.BLUESKY_SERVICE },
  });
  let x: Parameters<typeof wireWeb>[0]['x'];
  if (process.env.X_CLIENT_ID) {
    const [{ loadXOAuthEnv }, { XOAuthClient }] = await Promise.all([
      import('../../shared/config/x-oauth.ts'),
      import('../../shared/adapters/x/x-oauth-client.ts'),
    ]);
    const xEnv = loadXOAuthEnv();
    x = {
      oauth: new XOAuthClient({
        clientId: xEnv.X_CLIENT_ID,
        clientSecret: xEnv.X_CLIENT_SECRET,
        authorizeUrl: xEnv.X_AUTHORIZE_URL,
        tokenUrl: xEnv.X_TOKEN_URL,
        clock: context.clock,
      }),
      me: (accessToken) => new XPlatform({ baseUrl: xEnv.X_API_BASE_URL, accessToken }).me(),
    };
  }
  const auth = new LocalConsoleAuth({
    clock: systemClock,
    user: process.env.OPERATOR_EMAIL ?? 'operator@localhost',
  });
  const server = await startWebServer({
    port: options.port,
    baseUrl: options.baseUrl,
    logger,
    deps: (baseUrl) =>
      wireWeb(
        {
          store: context.store,
          digests: new DynamoDigestStore(context.table),
          table: context.table,
          clock: context.clock,
          keys,
          vault,
          credentials,
          agency: { name: LOCAL_AGENCY.name },
          auth,
          platformFor: (account) => platforms.open(account),
          x,
          mastodon: createMastodonOAuth(),
          bluesky: { service: env.BLUESKY_SERVICE, login: blueskyLogin({ clock: context.clock }) },
          logger,
        },
        baseUrl,
      ),
  });
  process.stdout.write(
    `console, invite pages and approval page served at ${server.url} (${context.where}).\n` +
      `sign in once with: ${server.url}${auth.issueSignInPath()}\n(the link works once, for 15 minutes). Ctrl-C stops.\n`,
  );
  try {
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
  } finally {
    await server.close();
    await context.close();
  }
}
