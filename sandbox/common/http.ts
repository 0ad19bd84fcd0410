/** Small HTTP helpers shared by the sandboxes (X, Bluesky, Mastodon). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxStats } from '../stats.ts';

const MAX_BODY_BYTES = 64 * 1024;

export const JSON_TYPE = 'application/json; charset=utf-8';

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new RangeError('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export interface Listening {
  server: Server;
  host: string;
  port: number;
  baseUrl: string;
  /** Destroys held sockets and open connections, then stops listening (once). */
  close(): Promise<void>;
}

/**
 * Serves `handle` on loopback; a handler that throws answers 500 with `internalBody` (of
 * `internalType`, JSON by default) and the error is kept in `internalErrors`. `held` are responses a
 * timeout fault keeps open, dropped on close.
 */
export async function listen(options: {
  host?: string | undefined;
  port?: number | undefined;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  internalErrors: unknown[];
  internalBody: string;
  internalType?: string | undefined;
  held: Set<ServerResponse>;
}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    options.handle(req, res).catch((error: unknown) => {
      options.internalErrors.push(error);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': options.internalType ?? JSON_TYPE });
        res.end(options.internalBody);
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    server,
    host,
    port,
    baseUrl: `http://${urlHost}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        for (const res of options.held) res.socket?.destroy();
        options.held.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** Holds a response without answering (a timeout), dropping the socket after `holdMs` if given. */
export function hold(res: ServerResponse, held: Set<ServerResponse>, holdMs: number | undefined): void {
  held.add(res);
  const timer = holdMs === undefined ? undefined : setTimeout(() => res.socket?.destroy(), holdMs);
  res.on('close', () => {
    if (timer) clearTimeout(timer);
    held.delete(res);
  });
}

/** Writes a whole answer: `headers`, then the content type and length of `text`. */
export function writeText(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  contentType: string,
  text: string,
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** An API answer: its JSON body, own headers (after the rate headers) and the users it shows. */
export interface JsonAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string> | undefined;
  /** Users (profiles, accounts) in the answer, counted in the stats on a 200 that is no fault. */
  users?: number | undefined;
  /** Of those, users billed (X: the first time in the app's UTC day); set by servers that bill. */
  billed?: number | undefined;
}

/** Sends `answer` as JSON (or `contentType`) after `headers`, and counts it in `stats` under `endpoint`. */
export function sendJson(
  res: ServerResponse,
  stats: SandboxStats,
  endpoint: string,
  answer: JsonAnswer,
  headers: Record<string, string>,
  fault = false,
  contentType = JSON_TYPE,
): void {
  writeText(res, answer.status, { ...headers, ...answer.headers }, contentType, JSON.stringify(answer.body));
  stats.record(endpoint, {
    status: answer.status,
    users: answer.status === 200 && !fault ? (answer.users ?? 0) : 0,
    billed: answer.status === 200 && !fault ? (answer.billed ?? 0) : 0,
    fault,
  });
}
