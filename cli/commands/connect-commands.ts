import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { CommandContext } from '../context.ts';
import { escapeJsonText, field, say, warn } from '../output.ts';
import { wholeNumber } from '../program.ts';

/**
 * `followback connect <network> --client <id>`: connects an account of a client, storing its
 * credentials sealed by the vault (local with --local, KMS otherwise) and creating or updating the
 * account record.
 *
 * X: OAuth 2.0 Authorization Code with PKCE and a loopback redirect. Configuration from the
 * environment (validated): X_CLIENT_ID, X_CLIENT_SECRET (confidential clients only), X_AUTHORIZE_URL,
 * X_TOKEN_URL, X_API_BASE_URL. The redirect is `http://127.0.0.1:<port>/callback` on a free port; the
 * X app must list it as a callback URL, and if X insists on the exact port, `--redirect-port` fixes
 * it.
 *
 * Bluesky: the handle (`--handle`, or the declared account's) and an app password, read from a
 * hidden prompt or, with `--password-stdin`, from standard input: never from the command line, where
 * it would land in the shell's history. The PDS is `--service`, else BLUESKY_SERVICE, else
 * https://bsky.social.
 *
 * Mastodon: the instance's OAuth flow (`--instance example.social`; https is added, plain http only
 * for this machine): an app is registered on the instance for the loopback redirect, the owner
 * approves in the browser, the code is exchanged (with PKCE where the instance offers it).
 */
export function register(program: Command): void {
  program
    .command('connect')
    .description(
      "connect a client's account: x or mastodon (OAuth, approved in the browser), bluesky (an app password)",
    )
    .argument('<network>', 'the network: x, bluesky or mastodon')
    .requiredOption('--client <id>', 'the client')
    .option(
      '--account <id>',
      'the account (default: the client account of the connecting user, else <network>-<handle>)',
    )
    .option('--handle <handle>', 'bluesky: the handle (or DID, or email) to log in with')
    .option('--service <url>', 'bluesky: the PDS (default BLUESKY_SERVICE, else https://bsky.social)')
    .option('--password-stdin', 'bluesky: read the app password from standard input', false)
    .option('--instance <host>', 'mastodon: the instance, e.g. example.social')
    .option(
      '--redirect-port <port>',
      'x, mastodon: port of the loopback redirect http://127.0.0.1:<port>/callback (default: any free port)',
      wholeNumber('--redirect-port', 1, 65_535),
    )
    .option('--no-browser', 'x, mastodon: only print the URL to open; do not try to open a browser')
    .option(
      '--timeout-seconds <n>',
      'x, mastodon: how long to wait for the approval',
      wholeNumber('--timeout-seconds', 10, 3600),
      300,
    )
    .option('--local', 'use the local store of `npm start` instead of the deployed table', false)
    .option('--dir <path>', 'where the local state is kept (with --local)', '.followback')
    .option('--json', 'print JSON lines for scripts (the authorize URL, then the result)', false)
    .action(async (network: string, options: ConnectOptions) => {
      switch (network) {
        case 'x':
          refuseOptions(network, options, ['handle', 'service', 'passwordStdin', 'instance']);
          await connectXCommand(options);
          return;
        case 'bluesky':
          refuseOptions(network, options, ['instance', 'redirectPort']);
          await connectBlueskyCommand(options);
          return;
        case 'mastodon':
          refuseOptions(network, options, ['handle', 'service', 'passwordStdin']);
          await connectMastodonCommand(options);
          return;
        default:
          throw new ValidationError(`connect ${network}: unknown network (networks: x, bluesky, mastodon)`);
      }
    });
}

interface ConnectOptions {
  client: string;
  account?: string;
  handle?: string;
  service?: string;
  passwordStdin: boolean;
  instance?: string;
  browser: boolean;
  redirectPort?: number;
  timeoutSeconds: number;
  local: boolean;
  dir: string;
  json: boolean;
}

const OPTION_NAMES: Record<string, string> = {
  handle: '--handle',
  service: '--service',
  passwordStdin: '--password-stdin',
  instance: '--instance',
  redirectPort: '--redirect-port',
};

function refuseOptions(network: string, options: ConnectOptions, names: (keyof ConnectOptions)[]): void {
  const given = names.filter((name) => options[name] !== undefined && options[name] !== false);
  if (given.length > 0) {
    throw new ValidationError(
      `connect ${network}: ${given.map((name) => OPTION_NAMES[name] ?? name).join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply to ${network}`,
    );
  }
}

/** Shared set-up: the logger (JSON lines on stderr, naming accounts, never a secret) and the store. */
async function openConnect(options: ConnectOptions): Promise<{ logger: Logger; context: CommandContext }> {
  const [{ loadRuntimeEnv }, { JsonLogger }, { openContext }] = await Promise.all([
    import('../../shared/config/env.ts'),
    import('../../shared/adapters/logger.ts'),
    import('../context.ts'),
  ]);
  const logger = new JsonLogger({ level: loadRuntimeEnv().LOG_LEVEL });
  return { logger, context: await openContext(options) };
}

/** The account `--account` names, if the client declares it. */
async function declaredAccount(
  context: CommandContext,
  options: ConnectOptions,
): Promise<AccountRecord | undefined> {
  if (options.account === undefined) return undefined;
  return context.store.getAccount({ clientId: options.client, accountId: options.account });
}

function printAuthorizeUrl(options: ConnectOptions, url: string, where: string): void {
  if (options.json) {
    process.stdout.write(`${escapeJsonText(JSON.stringify({ authorizeUrl: url }))}\n`);
  } else {
    say(
      `Open this URL and approve followback as the account's owner on ${where}:\n\n${url}\n\nWaiting for the approval (${options.timeoutSeconds} s)...\n`,
    );
  }
  if (options.browser && process.stdout.isTTY) openBrowser(url);
}

function printConnected(
  options: ConnectOptions,
  result: { account: AccountRecord; created: boolean } & Record<string, unknown>,
  who: string,
): void {
  const { account } = result;
  if (options.json) {
    process.stdout.write(`${escapeJsonText(JSON.stringify({ connected: true, ...result }))}\n`);
    return;
  }
  say(
    `connected @${field(account.handle)} (${who} ${field(account.platformUserId)}) as ${account.clientId}/${account.accountId}` +
      `${result.created ? ' (new account)' : ''}; status ${account.status}\n`,
  );
  if (typeof result.renamedFrom === 'string') {
    say(
      `note: ${account.clientId}/${account.accountId} was @${field(result.renamedFrom)}; the network now calls it @${field(account.handle)}, and the registry keeps that.\n` +
        `  if clients.yaml declares this account, write handle: ${field(account.handle)} there (apply refuses to put the old handle back)\n`,
    );
  }
}

async function connectXCommand(options: ConnectOptions): Promise<void> {
  const [{ loadXOAuthEnv }, { connectX }, { xOAuthClientFor }, { xOAuthApps }, { startLoopbackReceiver }] =
    await Promise.all([
      import('../../shared/config/x-oauth.ts'),
      import('../../shared/app/connect/connect-x.ts'),
      import('../../shared/app/connect/x-apps.ts'),
      import('../../shared/adapters/x/x-oauth-client.ts'),
      import('../../shared/adapters/oauth/loopback-receiver.ts'),
    ]);
  const env = loadXOAuthEnv();
  const { logger, context } = await openConnect(options);
  try {
    const credentials = await context.credentials();
    // The client's own X app if it names one (clients.yaml `xApp`), else the deployment's.
    const secret = env.X_CLIENT_SECRET;
    const oauth = await xOAuthClientFor(
      {
        registry: context.store,
        credentials,
        deployment: {
          clientId: env.X_CLIENT_ID,
          secret: secret === undefined ? undefined : async () => secret,
        },
        oauthApp: xOAuthApps({
          authorizeUrl: env.X_AUTHORIZE_URL,
          tokenUrl: env.X_TOKEN_URL,
          clock: context.clock,
        }),
      },
      options.client,
    );
    const result = await connectX(
      {
        registry: context.store,
        credentials,
        oauth,
        me: (accessToken) => new XPlatform({ baseUrl: env.X_API_BASE_URL, accessToken }).me(),
        clock: context.clock,
        logger,
        receiver: startLoopbackReceiver,
      },
      {
        clientId: options.client,
        accountId: options.account,
        timeoutMs: options.timeoutSeconds * 1000,
        redirectPort: options.redirectPort,
        onAuthorizeUrl: (url) => printAuthorizeUrl(options, url, 'X'),
      },
    );
    printConnected(options, { ...result }, 'X user');
  } finally {
    await context.close();
  }
}

async function connectBlueskyCommand(options: ConnectOptions): Promise<void> {
  const [{ connectBluesky }, { blueskyLogin }] = await Promise.all([
    import('../../shared/app/connect/connect-bluesky.ts'),
    import('../../shared/adapters/bluesky/bluesky-login.ts'),
  ]);
  const { logger, context } = await openConnect(options);
  try {
    const declared = await declaredAccount(context, options);
    const identifier = options.handle ?? (declared?.network === 'bluesky' ? declared.handle : undefined);
    if (identifier === undefined || identifier.trim() === '') {
      throw new ValidationError(
        'connect bluesky: --handle is required (the handle, DID or email to log in with)',
      );
    }
    const service =
      options.service ?? declared?.instanceUrl ?? nonEmpty(process.env.BLUESKY_SERVICE) ?? undefined;
    const appPassword = await readAppPassword(options, identifier);
    const credentials = await context.credentials();
    const result = await connectBluesky(
      {
        registry: context.store,
        credentials,
        clock: context.clock,
        logger,
        login: blueskyLogin({ clock: context.clock }),
      },
      { clientId: options.client, accountId: options.account, identifier, appPassword, service },
    );
    printConnected(options, { ...result }, 'Bluesky account');
  } finally {
    await context.close();
  }
}

async function connectMastodonCommand(options: ConnectOptions): Promise<void> {
  const [{ connectMastodon }, { createMastodonOAuth }, { startLoopbackReceiver }] = await Promise.all([
    import('../../shared/app/connect/connect-mastodon.ts'),
    import('../../shared/adapters/mastodon/mastodon-oauth.ts'),
    import('../../shared/adapters/oauth/loopback-receiver.ts'),
  ]);
  const { logger, context } = await openConnect(options);
  try {
    const declared = await declaredAccount(context, options);
    const instance =
      options.instance ?? (declared?.network === 'mastodon' ? declared.instanceUrl : undefined);
    if (instance === undefined) {
      throw new ValidationError('connect mastodon: --instance is required (e.g. --instance example.social)');
    }
    const credentials = await context.credentials();
    const result = await connectMastodon(
      {
        registry: context.store,
        credentials,
        clock: context.clock,
        logger,
        receiver: startLoopbackReceiver,
        mastodon: createMastodonOAuth(),
      },
      {
        clientId: options.client,
        accountId: options.account,
        instance,
        timeoutMs: options.timeoutSeconds * 1000,
        redirectPort: options.redirectPort,
        onAuthorizeUrl: (url) => printAuthorizeUrl(options, url, new URL(url).host),
      },
    );
    printConnected(options, { ...result }, 'Mastodon account');
  } finally {
    await context.close();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The app password: standard input with --password-stdin (its first line), else a prompt on the
 * terminal that does not echo. Never an argument: arguments land in shell history and `ps`.
 */
async function readAppPassword(options: ConnectOptions, identifier: string): Promise<string> {
  if (options.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]?.trim() ?? '';
    if (password === '') throw new ValidationError('connect bluesky: standard input held no app password');
    return password;
  }
  if (!process.stdin.isTTY) {
    throw new ValidationError(
      'connect bluesky: the app password is asked on a terminal; in a script, pipe it in with --password-stdin',
    );
  }
  return promptHidden(`Bluesky app password for @${identifier.replace(/^@/, '')}: `);
}

/** Reads one line from the terminal without echoing it (the prompt goes to stderr). */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  warn(question);
  return new Promise((resolve, reject) => {
    let answer = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer.trim());
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u0003') return done(new ValidationError('connect bluesky: cancelled'));
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
        else if (char >= ' ') answer += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
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
