import {
  createWorld,
  type OwnerOptions,
  startXSandbox,
  type World,
  type WorldUser,
  type XSandbox,
  type XSandboxOptions,
} from '../../sandbox/x/index.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';

export const START = Date.UTC(2026, 0, 5, 9, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked by the tests that read them
  body: any;
  text: string;
}

export interface Harness {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: XSandbox;
  token: string;
  get(path: string, token?: string): Promise<Answer>;
  post(path: string, body: unknown, token?: string): Promise<Answer>;
  del(path: string, token?: string): Promise<Answer>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  seed?: number;
  owner?: Partial<OwnerOptions>;
  orderNoise?: number;
  server?: Omit<XSandboxOptions, 'world'>;
}

/** A small still world (no changes unless a test asks) with one owner and a running X sandbox. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: options.seed ?? 1, clock, orderNoise: options.orderNoise ?? 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 250,
    initialFollowing: 40,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
    ...options.owner,
  });
  const sandbox = await startXSandbox({ world, ...options.server });
  const token = sandbox.issueToken(owner.id);
  const call = async (
    method: string,
    path: string,
    body: unknown,
    auth: string | undefined,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (auth !== '') headers.authorization = `Bearer ${auth ?? token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    clock,
    world,
    owner,
    sandbox,
    token,
    get: (path, auth) => call('GET', path, undefined, auth),
    post: (path, body, auth) => call('POST', path, body, auth),
    del: (path, auth) => call('DELETE', path, undefined, auth),
    close: () => sandbox.close(),
  };
}

/** Pages through a list over HTTP, returning the ids in order and the number of pages. */
export async function pageAll(
  harness: Harness,
  path: string,
  maxResults: number,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  for (;;) {
    const query = new URLSearchParams({ max_results: String(maxResults) });
    if (token) query.set('pagination_token', token);
    const answer = await harness.get(`${path}?${query}`);
    if (answer.status !== 200) throw new Error(`page ${pages}: ${answer.status} ${answer.text}`);
    pages++;
    for (const user of answer.body.data ?? []) ids.push(user.id);
    token = answer.body.meta.next_token;
    if (!token) return { ids, pages };
  }
}
