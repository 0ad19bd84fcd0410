/**
 * The web side on one machine: a node:http server on loopback around `handleWebRequest` (the
 * console, the invite pages, the OAuth callback) with the approval page beside it, the same code the
 * AWS Function URLs run. `followback serve --local` starts it and prints a one-time sign-in link.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoConsoleStore } from '../adapters/dynamo/console-store.ts';
import type { DynamoDigestStore } from '../adapters/dynamo/digest-store.ts';
import type { DynamoStore } from '../adapters/dynamo/store.ts';
import { DynamoUnfollowQueue } from '../adapters/dynamo/unfollow-store.ts';
import type { ConsoleAuth } from '../adapters/web/auth.ts';
import {
  handleWebRequest,
  MAX_WEB_BODY_BYTES,
  type WebDeps,
  type WebRequest,
  type WebResponse,
} from '../adapters/web/console-handler.ts';
import { handleApprovalRequest } from '../app/approval/handle.ts';
import { brandingOfClient } from '../app/console/branding.ts';
import type { EngineSettings } from '../app/engine/policy-of.ts';
import type { InviteDeps } from '../app/invites/invites.ts';
import type { AccountRecord } from '../domain/account.ts';
import type { ApprovalKeys } from '../domain/approval/token.ts';
import type { Clock } from '../ports/clock.ts';
import type { CredentialVault } from '../ports/credentials.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';
import type { Vault } from '../ports/vault.ts';
import type { Branding } from '../presentation/console/pages.ts';

export interface WebWiring {
  store: DynamoStore;
  digests: DynamoDigestStore;
  table: { client: DynamoDBClient; tableName: string };
  clock: Clock;
  keys: ApprovalKeys;
  vault: Vault;
  credentials: CredentialVault;
  agency: Branding;
  auth: ConsoleAuth;
  platformFor(account: AccountRecord): Platform | Promise<Platform>;
  x?: InviteDeps['x'];
  mastodon?: InviteDeps['mastodon'];
  bluesky?: InviteDeps['bluesky'];
  engine?: EngineSettings | undefined;
  auditRetentionDays?: number | undefined;
  /** Between two unfollows of a batch (tests: 0). */
  unfollowPauseMs?: number | undefined;
  logger?: Logger | undefined;
}

/** Everything `handleWebRequest` needs, from the stores and adapters of a runtime. */
export function wireWeb(wiring: WebWiring, baseUrl: string): WebDeps {
  const retention = wiring.auditRetentionDays ?? 400;
  const consoleStore = new DynamoConsoleStore({ ...wiring.table, auditRetentionDays: retention });
  const { store, clock } = wiring;
  const branding = { registry: store, branding: consoleStore, audit: consoleStore, clock };
  return {
    agency: wiring.agency,
    brandingOf: (client) => brandingOfClient(consoleStore, client),
    branding,
    auth: wiring.auth,
    invites: {
      registry: store,
      invites: consoleStore,
      audit: consoleStore,
      keys: wiring.keys,
      clock,
      vault: wiring.vault,
      credentials: wiring.credentials,
      baseUrl,
      x: wiring.x,
      mastodon: wiring.mastodon,
      bluesky: wiring.bluesky,
      logger: wiring.logger,
    },
    read: { store, samples: wiring.digests, runs: wiring.digests, engine: wiring.engine },
    decisions: { store, audit: consoleStore, clock },
    oneSided: {
      store,
      unfollowed: consoleStore,
      audit: consoleStore,
      queue: new DynamoUnfollowQueue(wiring.table),
      clock,
      platformFor: wiring.platformFor,
      engine: wiring.engine,
      pauseMs: wiring.unfollowPauseMs,
    },
    csrfKey: Array.isArray(wiring.keys)
      ? (wiring.keys[0] as string | Uint8Array)
      : (wiring.keys as string | Uint8Array),
    auditRetentionDays: retention,
    fallback: async (request: WebRequest): Promise<WebResponse> =>
      handleApprovalRequest(
        {
          store,
          uses: wiring.digests,
          clock,
          keys: wiring.keys,
          agencyName: wiring.agency.name,
          audit: consoleStore,
          branding: consoleStore,
          baseUrl,
          logger: wiring.logger,
        },
        {
          method: request.method,
          path: request.path,
          query: request.query,
          body: request.body,
          headers: request.headers,
        },
      ),
    logger: wiring.logger,
  };
}

export interface WebServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0: any free one); `deps(baseUrl)` wires the handler once the URL is known. */
export async function startWebServer(options: {
  port: number;
  baseUrl?: string | undefined;
  deps: (baseUrl: string) => WebDeps;
  logger?: Logger | undefined;
}): Promise<WebServer> {
  let deps: WebDeps | undefined;
  const server = createServer((req, res) => {
    if (deps === undefined) {
      res.writeHead(503).end();
      return;
    }
    void serve(deps, req, res, options.logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = options.baseUrl ?? `http://127.0.0.1:${port}`;
  deps = options.deps(url);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function serve(
  deps: WebDeps,
  req: IncomingMessage,
  res: ServerResponse,
  logger?: Logger,
): Promise<void> {
  try {
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('request body too large\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const response = await handleWebRequest(deps, {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      body,
      headers: req.headers as WebRequest['headers'],
    });
    const headers: Record<string, string | string[]> = { ...response.headers };
    if (response.cookies !== undefined && response.cookies.length > 0)
      headers['Set-Cookie'] = response.cookies;
    res.writeHead(response.status, headers);
    res.end(response.body);
  } catch (error) {
    logger?.error('web server: request failed', { error: (error as Error).message });
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('internal error\n');
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_WEB_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
