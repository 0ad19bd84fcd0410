import { timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectTimeoutError, type LoopbackReceiver, OAuthGrantError } from '../../ports/oauth.ts';
import { html } from '../../presentation/html.ts';

export { ConnectTimeoutError, type LoopbackReceiver };

/**
 * The redirect target of a native app's OAuth flow (RFC 8252 7.3): an HTTP server on 127.0.0.1 on a
 * free port, for one redirect. It answers only `GET <path>` carrying the flow's `state`; anything
 * else (another path, a missing or foreign state: a forged link) is refused and the wait goes on.
 */

export interface LoopbackOptions {
  /** The `state` sent in the authorize URL. */
  state: string;
  host?: string | undefined;
  /** 0 (default): a free port. */
  port?: number | undefined;
  path?: string | undefined;
  /** How long to wait for the owner (default 5 minutes). */
  timeoutMs?: number | undefined;
}

export async function startLoopbackReceiver(options: LoopbackOptions): Promise<LoopbackReceiver> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/callback';
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const expected = Buffer.from(options.state);
  let settle: { resolve(code: string): void; reject(error: Error): void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Whoever awaits `code` sees the rejection; this only keeps an unawaited one from crashing the process.
  code.catch(() => undefined);
  let done = false;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback.invalid');
    if (req.method !== 'GET' || url.pathname !== path) {
      reply(res, 404, 'Not found', 'Nothing here.');
      return;
    }
    const state = Buffer.from(url.searchParams.get('state') ?? '');
    if (done || state.length !== expected.length || !timingSafeEqual(state, expected)) {
      reply(res, 400, 'Not connected', 'This link does not belong to the connect flow in progress.');
      return;
    }
    const error = url.searchParams.get('error');
    const authCode = url.searchParams.get('code');
    done = true;
    if (error !== null || authCode === null || authCode === '') {
      const code = error ?? 'invalid_request';
      reply(res, 400, 'Not connected', `The account was not connected (${code}). You can close this tab.`);
      settle?.reject(
        new OAuthGrantError(
          code,
          `the authorization was not granted: ${code}${describe(url.searchParams.get('error_description'))}`,
        ),
      );
    } else {
      reply(res, 200, 'Connected', 'followback got the approval. You can close this tab.');
      settle?.resolve(authCode);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const timer = setTimeout(() => {
    done = true;
    settle?.reject(
      new ConnectTimeoutError(
        `nobody came back to the loopback redirect within ${Math.round(timeoutMs / 1000)} s`,
      ),
    );
  }, timeoutMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    redirectUri: `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    code,
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearTimeout(timer);
        if (!done) {
          done = true;
          settle?.reject(
            new ConnectTimeoutError('the connect flow was stopped before the redirect came back'),
          );
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function reply(res: ServerResponse, status: number, title: string, text: string): void {
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>followback: ${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
  const body = page.toString();
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

/** The platform's description of a refused grant, cut to 200 characters, in brackets; '' when it gave none. */
function describe(description: string | null): string {
  return description ? ` (${description.slice(0, 200)})` : '';
}
