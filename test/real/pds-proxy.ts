/**
 * A loopback proxy in front of the real PDS, for one harness: what the sandboxes do in-process, done
 * on the wire. It forwards every request unchanged to the PDS from a loopback source address of its
 * own (127.0.0.N: the PDS's global rate limit is per IP, so each harness is a deployment with its
 * own window, and two harnesses on one address share one), counts answers (429s, faults, follow
 * calls by subject), and injects the same faults as the sandboxes (sandbox/common/faults.ts).
 *
 * Sessions carry a DID document whose PDS endpoint is the PDS itself; the agent would then talk to
 * it directly, past the proxy, so the endpoint in session answers is rewritten to the proxy.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxFaults, serveFault } from '../../sandbox/common/faults.ts';
import { SandboxStats } from '../../sandbox/stats.ts';

const SESSION_METHODS = new Set([
  'com.atproto.server.createSession',
  'com.atproto.server.refreshSession',
  'com.atproto.server.getSession',
]);

export interface ProxyFollowCall {
  subject: string;
  outcome: string;
}

export interface PdsProxy {
  readonly url: string;
  readonly sourceAddress: string;
  readonly stats: SandboxStats;
  readonly faults: SandboxFaults<string>;
  /** createRecord calls for app.bsky.graph.follow, in order. */
  readonly followCalls: ProxyFollowCall[];
  /** Subjects the owner follows as far as the proxy saw (seeded follows are added by the harness). */
  readonly followed: Set<string>;
  close(): Promise<void>;
}

function xrpcError(error: string, message: string) {
  return { error, message };
}

function methodOf(req: IncomingMessage): string {
  const match = /^\/xrpc\/([a-zA-Z0-9.-]+)/.exec(req.url ?? '');
  return match?.[1] ?? 'unknown';
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Upstream {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export async function startPdsProxy(options: {
  pds: string;
  sourceAddress: string;
  /** The harness's clock: an injected 429 resets 5 minutes after its now, as a sandbox's would. */
  now: () => number;
  seed?: number;
}): Promise<PdsProxy> {
  const target = new URL(options.pds);
  const stats = new SandboxStats();
  const faults = new SandboxFaults<string>(options.seed ?? 1, 'real-pds-proxy');
  const followCalls: ProxyFollowCall[] = [];
  const followed = new Set<string>();
  const held = new Set<ServerResponse>();
  let selfUrl = '';

  const forward = (req: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'accept-encoding': 'identity' };
      const upstream = request(
        {
          host: '127.0.0.1',
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          localAddress: options.sourceAddress,
        },
        (res) => {
          readAll(res).then((data) => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
              if (name === 'connection' || name === 'keep-alive') continue;
              out[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({ status: res.statusCode ?? 502, headers: out, body: data });
          }, reject);
        },
      );
      upstream.once('error', reject);
      upstream.end(body);
    });

  const write = (res: ServerResponse, method: string, answer: Upstream, fault = false) => {
    let body = answer.body;
    if (SESSION_METHODS.has(method) && answer.status === 200) {
      body = Buffer.from(rewriteEndpoint(body.toString('utf8'), selfUrl));
    }
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
    res.end(body);
    stats.record(method, { status: answer.status, fault });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = methodOf(req);
    const body = await readAll(req);
    const follow = method === 'com.atproto.repo.createRecord' ? followSubject(body) : undefined;
    const fault = faults.take(method, undefined);
    let answer: Upstream | undefined;
    if (!fault || fault.apply) {
      answer = await forward(req, body);
      if (follow !== undefined) {
        const outcome = answer.status === 200 ? 'followed' : `status_${answer.status}`;
        if (answer.status === 200) {
          if (followed.has(follow)) stats.recordFollowCall(true);
          else stats.recordFollowCall(false);
          followed.add(follow);
        }
        followCalls.push({ subject: follow, outcome });
      }
    }
    if (!fault) {
      write(res, method, answer!);
      return;
    }
    const headers: Record<string, string> = {};
    serveFault(
      res,
      fault,
      {
        endpoint: method,
        headers,
        stats,
        held,
        send: (json) => {
          const text = Buffer.from(JSON.stringify(json.body));
          write(
            res,
            method,
            {
              status: json.status,
              headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
              body: text,
            },
            true,
          );
        },
      },
      {
        serverError: xrpcError('InternalServerError', 'Internal Server Error'),
        unavailable: { body: xrpcError('NotEnoughResources', 'Service Unavailable') },
        rateLimited: xrpcError('RateLimitExceeded', 'Rate Limit Exceeded'),
        exhaustHeaders: () => {
          const reset = Math.ceil(options.now() / 1000) + 300;
          Object.assign(headers, {
            'ratelimit-limit': '3000',
            'ratelimit-remaining': '0',
            'ratelimit-reset': String(reset),
            'ratelimit-policy': '3000;w=300',
          });
        },
        malformed: { followers: 42, cursor: 7, did: null },
        truncated: '{"subject":{"did":"did:plc:trunc',
      },
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify(xrpcError('UpstreamFailure', String(error))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  selfUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: selfUrl,
    sourceAddress: options.sourceAddress,
    stats,
    faults,
    followCalls,
    followed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The subject of a follow record in a createRecord body, if it is one. */
function followSubject(body: Buffer): string | undefined {
  try {
    const input = JSON.parse(body.toString('utf8')) as {
      collection?: unknown;
      record?: { subject?: unknown };
    };
    return input.collection === 'app.bsky.graph.follow' && typeof input.record?.subject === 'string'
      ? input.record.subject
      : undefined;
  } catch {
    return undefined;
  }
}

/** A session answer with its DID document's PDS endpoint pointed at `url`. */
function rewriteEndpoint(text: string, url: string): string {
  try {
    const session = JSON.parse(text) as {
      didDoc?: { service?: { id?: string; serviceEndpoint?: string }[] };
    };
    for (const service of session.didDoc?.service ?? []) {
      if (service.id === '#atproto_pds') service.serviceEndpoint = url;
    }
    return JSON.stringify(session);
  } catch {
    return text;
  }
}
