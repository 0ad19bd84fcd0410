/**
 * The approval page on one machine: a node:http server on loopback around
 * `handleApprovalRequest`, the same code the AWS Function URL runs. Links in a local digest point
 * here (`http://127.0.0.1:<port>/approve/<client>?t=…`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApprovalDeps,
  type ApprovalRequest,
  handleApprovalRequest,
  MAX_REQUEST_BODY_BYTES,
} from '../app/approval/handle.ts';

/** The port `followback serve` listens on by default, and local digests link to. */
export const DEFAULT_APPROVAL_PORT = 8787;

export function localApprovalBaseUrl(port: number = DEFAULT_APPROVAL_PORT): string {
  return `http://127.0.0.1:${port}`;
}

export interface ApprovalServerOptions extends Omit<ApprovalDeps, 'baseUrl'> {
  /** 0: any free port. */
  port: number;
  /** The base URL links use; default http://127.0.0.1:<port>. */
  baseUrl?: string | undefined;
}

export interface ApprovalServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startApprovalServer(options: ApprovalServerOptions): Promise<ApprovalServer> {
  let baseUrl = options.baseUrl;
  const server = createServer((req, res) => {
    void serve({ ...options, baseUrl }, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl ??= localApprovalBaseUrl(port);
  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
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

async function serve(deps: ApprovalDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('request body too large\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: ApprovalRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      body,
      headers: req.headers as ApprovalRequest['headers'],
    };
    const response = await handleApprovalRequest(deps, request);
    res.writeHead(response.status, response.headers);
    res.end(response.body);
  } catch (error) {
    deps.logger?.error('approval server: request failed', { error: (error as Error).message });
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('internal error\n');
  }
}

/** The body as UTF-8 text; undefined when larger than the handler accepts. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
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
