import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { systemClock, VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { JsonLogger } from '../../shared/adapters/logger.ts';
import { mimeComposer } from '../../shared/adapters/mime/mime-composer.ts';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';
import { createSesClient, SesMailer } from '../../shared/adapters/ses/ses-mailer.ts';
import { parseApprovalKeys } from '../../shared/app/approval/keys.ts';
import type { AgencyInfo, DigestBuildDeps } from '../../shared/app/digest/build.ts';
import { type SendDueResult, sendDueDigests } from '../../shared/app/digest/dispatch.ts';
import { LOCAL_AGENCY, type PreviewResult, previewDigests } from '../../shared/app/digest/preview.ts';
import { parseConfig } from '../../shared/config/validate.ts';
import * as z from '../../shared/config/zod.ts';
import type { ApprovalKeys } from '../../shared/domain/approval/token.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Mailer } from '../../shared/ports/mailer.ts';
import { loadLocalApprovalKeys } from '../../shared/runtime/approval-key.ts';
import {
  type ApprovalServer,
  DEFAULT_APPROVAL_PORT,
  localApprovalBaseUrl,
  startApprovalServer,
} from '../../shared/runtime/approval-server.ts';
import { SAMPLE_NOW, seedDigestSample } from '../../shared/runtime/digest-sample.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { type CommandContext, openContext, printJson } from '../context.ts';
import { localTime } from '../format.ts';
import { field, say } from '../output.ts';
import { where } from '../program.ts';

/**
 * `followback digest preview|send|screenshot` and `followback serve`.
 *
 * With --local everything works on the state of `npm start` (under --dir): mail goes to the outbox
 * (`<dir>/outbox`), the approval page is served on loopback, links are signed with the local key
 * (`<dir>/approval.key`). Without it, the deployed table: `digest send` sends through SES v2 and
 * reads its settings from the environment (SENDER_ADDRESS, AGENCY_NAME, APPROVAL_BASE_URL,
 * APPROVAL_SIGNING_KEY, and optionally OPERATOR_EMAIL, SES_CONFIGURATION_SET, AGENCY_TIME_ZONE).
 */
export function register(program: Command): void {
  const digest = program
    .command('digest')
    .description('the weekly digest: preview it, send what is due, or render screenshots');

  where(
    digest
      .command('preview')
      .description('write the digest of the latest period to the outbox and print where (sends nothing)')
      .option('--client <id>', 'only this client')
      .option('--outbox <path>', 'the outbox directory (default <dir>/outbox)')
      .option('--base-url <url>', 'base URL of the approval links (default: the local `serve` address)'),
  ).action(async (options: PreviewCommandOptions) => {
    await previewCommand(options);
  });

  where(
    digest
      .command('send')
      .description('send every digest that is due now, and the roll-up (locally: into the outbox)')
      .option('--outbox <path>', 'the outbox directory (with --local; default <dir>/outbox)')
      .option('--base-url <url>', 'base URL of the approval links (with --local)'),
  ).action(async (options: SendCommandOptions) => {
    await sendCommand(options);
  });

  where(
    digest
      .command('screenshot')
      .description(
        'render the digest email and the approval page to PNG in headless Chromium (without --local: a built-in sample client)',
      )
      .option('--out <path>', 'where the PNGs go (default <dir>/screenshots)')
      .option('--client <id>', "with --local: this client's digest (its current period, freshly rendered)"),
  ).action(async (options: ScreenshotCommandOptions) => {
    await screenshotCommand(options);
  });

  where(
    program
      .command('serve')
      .description('serve the approval page (and unsubscribe) on loopback, for the links in the digest')
      .option('--port <n>', 'port on 127.0.0.1', portNumber, DEFAULT_APPROVAL_PORT)
      .option('--base-url <url>', 'the public base URL, when a proxy serves this address elsewhere'),
  ).action(async (options: ServeCommandOptions) => {
    await serveCommand(options);
  });
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  }
  return port;
}

interface CommonOptions {
  local?: boolean;
  dir: string;
  json?: boolean;
}

interface PreviewCommandOptions extends CommonOptions {
  client?: string;
  outbox?: string;
  baseUrl?: string;
}

interface SendCommandOptions extends CommonOptions {
  outbox?: string;
  baseUrl?: string;
}

interface ScreenshotCommandOptions extends CommonOptions {
  out?: string;
  client?: string;
}

interface ServeCommandOptions extends CommonOptions {
  port: number;
  baseUrl?: string;
}

// ---------------------------------------------------------------------------------------------
// Settings

const deployedSchema = z.object({
  SENDER_ADDRESS: z.email(),
  AGENCY_NAME: z.string().check(z.minLength(1)),
  APPROVAL_BASE_URL: z.url({ protocol: /^https?$/ }),
  APPROVAL_SIGNING_KEY: z.string().check(z.minLength(1)),
  OPERATOR_EMAIL: z.optional(z.email()),
  SES_CONFIGURATION_SET: z.optional(z.string().check(z.minLength(1))),
  SES_ENDPOINT: z.optional(z.url()),
  AGENCY_TIME_ZONE: z.optional(z.string().check(z.minLength(1))),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
});

function presentEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

interface DigestSettings {
  agency: AgencyInfo;
  keys: ApprovalKeys;
  baseUrl: string;
  outbox: string | undefined;
  mailer(): Mailer;
}

async function settingsOf(
  options: CommonOptions & { outbox?: string; baseUrl?: string },
): Promise<DigestSettings> {
  if (options.local) {
    const dir = resolve(options.dir);
    const outbox = resolve(options.outbox ?? join(dir, 'outbox'));
    return {
      agency: LOCAL_AGENCY,
      keys: await loadLocalApprovalKeys(dir),
      baseUrl: options.baseUrl ?? localApprovalBaseUrl(DEFAULT_APPROVAL_PORT),
      outbox,
      mailer: () => new OutboxMailer({ dir: outbox }),
    };
  }
  const env = parseConfig(deployedSchema, presentEnv(), 'environment');
  return {
    agency: {
      name: env.AGENCY_NAME,
      senderAddress: env.SENDER_ADDRESS,
      ...(env.OPERATOR_EMAIL === undefined ? {} : { operatorEmails: [env.OPERATOR_EMAIL] }),
      ...(env.AGENCY_TIME_ZONE === undefined ? {} : { timeZone: env.AGENCY_TIME_ZONE }),
    },
    keys: parseApprovalKeys(env.APPROVAL_SIGNING_KEY),
    baseUrl: options.baseUrl ?? env.APPROVAL_BASE_URL,
    outbox: options.outbox === undefined ? undefined : resolve(options.outbox),
    mailer: () =>
      new SesMailer({
        client: createSesClient({ region: env.AWS_REGION, endpoint: env.SES_ENDPOINT }),
        configurationSetName: env.SES_CONFIGURATION_SET,
      }),
  };
}

function buildDeps(
  context: CommandContext,
  settings: DigestSettings,
  clock: Clock = context.clock,
): DigestBuildDeps & { composer: typeof mimeComposer } {
  return {
    composer: mimeComposer,
    store: context.store,
    samples: new DynamoDigestStore(context.table),
    branding: new DynamoConsoleStore(context.table),
    clock,
    agency: settings.agency,
    keys: settings.keys,
    baseUrl: settings.baseUrl,
    logger: new JsonLogger({ level: 'warn' }),
  };
}

// ---------------------------------------------------------------------------------------------
// digest preview

export async function previewCommand(options: PreviewCommandOptions): Promise<PreviewResult[]> {
  const settings = await settingsOf(options);
  const outbox = settings.outbox ?? resolve(join(options.dir, 'outbox'));
  const context = await openContext(options);
  try {
    const results = await previewDigests(
      { ...buildDeps(context, settings), outbox: new OutboxMailer({ dir: outbox }) },
      options.client === undefined ? {} : { clientId: options.client },
    );
    if (options.json) {
      printJson(results);
      return results;
    }
    if (results.length === 0) say(`no clients in the ${context.where}\n`);
    for (const r of results) {
      say(
        `${[
          `${field(r.clientName)} (${field(r.clientId)}), ${r.periodKey} (${localTime(r.period.start, r.timeZone)} – ${localTime(r.period.end, r.timeZone)}): not sent`,
          `  email   ${r.eml}`,
          `  html    ${r.html}`,
          r.awaitingApproval > 0
            ? `  approve ${r.approvalLinks[0]}\n          (${r.awaitingApproval} waiting; the page needs \`followback serve${options.local ? ' --local' : ''}\` running)`
            : '  nothing waiting for approval',
        ].join('\n')}\n`,
      );
    }
    return results;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// digest send

export async function sendCommand(options: SendCommandOptions): Promise<SendDueResult> {
  const settings = await settingsOf(options);
  const context = await openContext(options);
  try {
    const deps = {
      ...buildDeps(context, settings),
      runs: new DynamoDigestStore(context.table),
      mailer: settings.mailer(),
    };
    const result = await sendDueDigests(deps, context.clock.now());
    if (options.json) {
      printJson(result);
      return result;
    }
    const mailer = deps.mailer;
    const where = (clientId: string, periodKey: string, kind: string) =>
      mailer instanceof OutboxMailer ? ` -> ${mailer.pathsOf({ clientId, periodKey, kind }).eml}` : '';
    if (result.digests.length === 0) say('no digest is due now\n');
    for (const d of result.digests) {
      const period = 'periodKey' in d ? ` ${d.periodKey}` : '';
      const path = d.outcome === 'sent' && 'periodKey' in d ? where(d.clientId, d.periodKey, 'digest') : '';
      say(`${field(d.clientId)}${period}: ${d.outcome}${path}\n`);
    }
    const r = result.rollup;
    const rollupPath = r.outcome === 'sent' && 'periodKey' in r ? where('agency', r.periodKey, 'rollup') : '';
    say(`roll-up${'periodKey' in r ? ` ${r.periodKey}` : ''}: ${r.outcome}${rollupPath}\n`);
    return result;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// serve

export async function serveCommand(options: ServeCommandOptions): Promise<void> {
  if (options.local) {
    // Locally the console and the invite pages are served beside the approval page.
    const { serveConsoleCommand } = await import('./console-commands.ts');
    await serveConsoleCommand(options);
    return;
  }
  let keys: ApprovalKeys;
  let agencyName: string;
  if (options.local) {
    keys = await loadLocalApprovalKeys(resolve(options.dir));
    agencyName = LOCAL_AGENCY.name;
  } else {
    const env = parseConfig(
      z.object({
        APPROVAL_SIGNING_KEY: z.string().check(z.minLength(1)),
        AGENCY_NAME: z.string().check(z.minLength(1)),
      }),
      presentEnv(),
      'environment',
    );
    keys = parseApprovalKeys(env.APPROVAL_SIGNING_KEY);
    agencyName = env.AGENCY_NAME;
  }
  const context = await openContext(options);
  let server: ApprovalServer | undefined;
  try {
    const consoleStore = new DynamoConsoleStore(context.table);
    server = await startApprovalServer({
      store: context.store,
      uses: new DynamoDigestStore(context.table),
      clock: options.local ? context.clock : systemClock,
      keys,
      agencyName,
      audit: consoleStore,
      branding: consoleStore,
      port: options.port,
      baseUrl: options.baseUrl,
      logger: new JsonLogger({ level: 'info' }),
    });
    say(
      `approval page served at ${server.url} (${context.where}); open a link from the digest. Ctrl-C stops.\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
  } finally {
    await server?.close();
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// digest screenshot

export interface ScreenshotResult {
  digest: string;
  approvalPage: string | undefined;
  source: 'sample' | 'local';
  html: string;
}

export async function screenshotCommand(options: ScreenshotCommandOptions): Promise<ScreenshotResult> {
  const { launchChromium, screenshotFile, screenshotUrl } = await import('../../shared/runtime/chromium.ts');
  const out = resolve(options.out ?? join(options.dir, 'screenshots'));
  if (options.client !== undefined && !options.local) {
    throw new ValidationError(
      'digest screenshot: --client needs --local (without it, the built-in sample is shot)',
    );
  }
  const chromium = await launchChromium();
  try {
    const result = options.local
      ? await screenshotLocal(options, out, chromium, screenshotFile, screenshotUrl)
      : await screenshotSample(out, chromium, screenshotFile, screenshotUrl);
    if (options.json) printJson(result);
    else {
      say(`digest        ${result.digest}\n`);
      say(`approval page ${result.approvalPage ?? '(none: no candidate is waiting for approval)'}\n`);
    }
    return result;
  } finally {
    await chromium.close();
  }
}

type Chromium = Awaited<ReturnType<typeof import('../../shared/runtime/chromium.ts').launchChromium>>;
type ShotFile = (chromium: Chromium, html: string, png: string, width?: number) => Promise<string>;
type ShotUrl = (chromium: Chromium, url: string, png: string) => Promise<string>;

/** The built-in sample client, in memory: always has something in every section. */
async function screenshotSample(
  out: string,
  chromium: Chromium,
  shotFile: ShotFile,
  shotUrl: ShotUrl,
): Promise<ScreenshotResult> {
  const dynamo = await startLocalDynamo();
  let server: ApprovalServer | undefined;
  try {
    const clock = new VirtualClock(SAMPLE_NOW);
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock });
    const digests = new DynamoDigestStore({ client: dynamo.client, tableName: dynamo.tableName });
    await seedDigestSample({ store, samples: digests });
    const keys = 'sample-approval-key-not-secret-000000000000';
    server = await startApprovalServer({
      store,
      uses: digests,
      clock,
      keys,
      agencyName: LOCAL_AGENCY.name,
      port: 0,
    });
    const [preview] = await previewDigests({
      store,
      samples: digests,
      clock,
      keys,
      baseUrl: server.url,
      outbox: new OutboxMailer({ dir: join(out, 'outbox') }),
      composer: mimeComposer,
    });
    if (preview === undefined) throw new ValidationError('the sample has no client');
    return await shoot(preview, out, chromium, shotFile, shotUrl, 'sample');
  } finally {
    await server?.close();
    await dynamo.close();
  }
}

/** The local run's state: the latest digest HTML in the outbox, and the approval page of a fresh preview. */
async function screenshotLocal(
  options: ScreenshotCommandOptions,
  out: string,
  chromium: Chromium,
  shotFile: ShotFile,
  shotUrl: ShotUrl,
): Promise<ScreenshotResult> {
  const dir = resolve(options.dir);
  const keys = await loadLocalApprovalKeys(dir);
  const context = await openContext({ local: true, dir });
  let server: ApprovalServer | undefined;
  try {
    const uses = new DynamoDigestStore(context.table);
    server = await startApprovalServer({
      store: context.store,
      uses,
      clock: context.clock,
      keys,
      agencyName: LOCAL_AGENCY.name,
      port: 0,
    });
    if (options.client !== undefined && (await context.store.getClient(options.client)) === undefined) {
      throw new ValidationError(`no client ${options.client} in the local store in ${dir}`, {
        details: { hint: 'see the clients: followback client list --local' },
      });
    }
    const previews = await previewDigests(
      {
        store: context.store,
        samples: uses,
        clock: context.clock,
        keys,
        baseUrl: server.url,
        outbox: new OutboxMailer({ dir: join(out, 'outbox') }),
        composer: mimeComposer,
      },
      options.client === undefined ? {} : { clientId: options.client },
    );
    const preview = previews.find((p) => p.awaitingApproval > 0) ?? previews[0];
    if (preview === undefined) {
      throw new ValidationError(`no clients in the local store in ${dir}: run \`npm start\` first`);
    }
    // A named client: its digest as rendered now; otherwise the latest the outbox holds.
    const latest = options.client === undefined ? await latestHtml(join(dir, 'outbox')) : undefined;
    return await shoot(
      { ...preview, html: latest ?? preview.html },
      out,
      chromium,
      shotFile,
      shotUrl,
      'local',
    );
  } finally {
    await server?.close();
    await context.close();
  }
}

async function shoot(
  preview: PreviewResult,
  out: string,
  chromium: Chromium,
  shotFile: ShotFile,
  shotUrl: ShotUrl,
  source: 'sample' | 'local',
): Promise<ScreenshotResult> {
  const digest = await shotFile(chromium, preview.html, join(out, 'digest.png'));
  const link = preview.approvalLinks[0];
  // A GET: the page is shown, nothing is approved.
  const approvalPage =
    link === undefined ? undefined : await shotUrl(chromium, link, join(out, 'approval-page.png'));
  return { digest, approvalPage, source, html: preview.html };
}

/** The most recently written digest `.html` in the outbox (any client), if any. */
async function latestHtml(outbox: string): Promise<string | undefined> {
  let best: { path: string; mtime: number } | undefined;
  let clients: string[];
  try {
    clients = await readdir(outbox);
  } catch {
    return undefined;
  }
  for (const client of clients) {
    let files: string[];
    try {
      files = await readdir(join(outbox, client));
    } catch {
      continue;
    }
    for (const file of files) {
      if (!/-(digest|preview)\.html$/.test(file)) continue;
      const path = join(outbox, client, file);
      const { mtimeMs } = await stat(path);
      if (best === undefined || mtimeMs > best.mtime) best = { path, mtime: mtimeMs };
    }
  }
  return best?.path;
}
