import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { wholeNumber } from '../program.ts';

/**
 * `followback connect <network> --client <id>`: connects an account of a client, storing its tokens
 * sealed by the vault (local with --local, KMS otherwise) and creating or updating the account record.
 *
 * X: OAuth 2.0 Authorization Code with PKCE and a loopback redirect. Configuration from the
 * environment (validated): X_CLIENT_ID, X_CLIENT_SECRET (confidential clients only), X_AUTHORIZE_URL,
 * X_TOKEN_URL, X_API_BASE_URL. The redirect is `http://127.0.0.1:<port>/callback` on a free port; the
 * X app must list it as a callback URL, and if X insists on the exact port, `--redirect-port` fixes
 * it. Bluesky and Mastodon join through this command in their own issue.
 */
export function register(program: Command): void {
  program
    .command('connect')
    .description("connect a client's account on a network (X: OAuth 2.0 with PKCE, approved in the browser)")
    .argument('<network>', 'the network: x')
    .requiredOption('--client <id>', 'the client')
    .option(
      '--account <id>',
      'the account (default: the client account of the approving user, else x-<handle>)',
    )
    .option(
      '--redirect-port <port>',
      'port of the loopback redirect http://127.0.0.1:<port>/callback (default: any free port)',
      wholeNumber('--redirect-port', 1, 65_535),
    )
    .option('--no-browser', 'only print the URL to open; do not try to open a browser')
    .option(
      '--timeout-seconds <n>',
      'how long to wait for the approval',
      wholeNumber('--timeout-seconds', 10, 3600),
      300,
    )
    .option('--local', 'use the local store of `npm start` instead of the deployed table', false)
    .option('--dir <path>', 'where the local state is kept (with --local)', '.followback')
    .option('--json', 'print JSON lines for scripts (the authorize URL, then the result)', false)
    .action(async (network: string, options: ConnectOptions) => {
      if (network !== 'x') {
        throw new ValidationError(`connect ${network}: not supported yet (networks: x)`);
      }
      await connectXCommand(options);
    });
}

interface ConnectOptions {
  client: string;
  account?: string;
  browser: boolean;
  redirectPort?: number;
  timeoutSeconds: number;
  local: boolean;
  dir: string;
  json: boolean;
}

async function connectXCommand(options: ConnectOptions): Promise<void> {
  const [
    { loadXOAuthEnv },
    { loadRuntimeEnv },
    { JsonLogger },
    { connectX },
    { XOAuthClient },
    { openContext },
  ] = await Promise.all([
    import('../../shared/config/x-oauth.ts'),
    import('../../shared/config/env.ts'),
    import('../../shared/adapters/logger.ts'),
    import('../../shared/app/connect/connect-x.ts'),
    import('../../shared/app/connect/oauth-client.ts'),
    import('../context.ts'),
  ]);
  const env = loadXOAuthEnv();
  // Logs go to stderr as JSON lines; they name the account, never a token.
  const logger = new JsonLogger({ level: loadRuntimeEnv().LOG_LEVEL });
  const context = await openContext(options);
  try {
    const credentials = await context.credentials();
    const oauth = new XOAuthClient({
      clientId: env.X_CLIENT_ID,
      clientSecret: env.X_CLIENT_SECRET,
      authorizeUrl: env.X_AUTHORIZE_URL,
      tokenUrl: env.X_TOKEN_URL,
      clock: context.clock,
    });
    const result = await connectX(
      {
        registry: context.store,
        credentials,
        oauth,
        me: (accessToken) => new XPlatform({ baseUrl: env.X_API_BASE_URL, accessToken }).me(),
        clock: context.clock,
        logger,
      },
      {
        clientId: options.client,
        accountId: options.account,
        timeoutMs: options.timeoutSeconds * 1000,
        redirectPort: options.redirectPort,
        onAuthorizeUrl(url) {
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ authorizeUrl: url })}\n`);
          } else {
            process.stdout.write(
              `Open this URL and approve followback as the account's owner on X:\n\n${url}\n\nWaiting for the approval (${options.timeoutSeconds} s)...\n`,
            );
          }
          if (options.browser && process.stdout.isTTY) openBrowser(url);
        },
      },
    );
    const { account } = result;
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ connected: true, created: result.created, scopes: result.scopes, account })}\n`,
      );
      return;
    }
    process.stdout.write(
      `connected @${account.handle} (X user ${account.platformUserId}) as ${account.clientId}/${account.accountId}` +
        `${result.created ? ' (new account)' : ''}; status ${account.status}\n`,
    );
  } finally {
    await context.close();
  }
}

/** Best effort: the URL is printed anyway. */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser here: the printed URL will do.
  }
}
