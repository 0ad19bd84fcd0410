/**
 * The seeder of the real network: makes accounts and follows on the reference PDS as people would
 * (com.atproto.server.createAccount, app.bsky.actor.profile and app.bsky.graph.follow records,
 * deactivation, takedown and deletion through the PDS's own endpoints), with the rate-limit bypass
 * key so seeding never spends the adapters' rate limits, and waits for the AppView to index it.
 * Plain fetch over XRPC: the seeder must not share code paths with the adapter under test.
 */
import { inject } from 'vitest';
import type { RealStackInfo } from './processes.ts';

export interface SeedAccount {
  did: string;
  handle: string;
  password: string;
  accessJwt: string;
}

export interface ProfileSeed {
  displayName?: string;
  description?: string;
}

export class XrpcFailure extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method}: ${status} ${body.slice(0, 300)}`);
    this.name = 'XrpcFailure';
  }
}

let counter = 0;

export class RealNetwork {
  constructor(readonly info: RealStackInfo) {}

  static fromInject(): RealNetwork {
    return new RealNetwork(inject('realStack'));
  }

  /** One XRPC call to the PDS; `auth` a bearer token, 'admin' for the admin password, or none. */
  async xrpc<T = unknown>(
    method: string,
    options: {
      auth?: string | 'admin';
      body?: unknown;
      params?: Record<string, string | string[]>;
      bypass?: boolean;
      base?: string;
    } = {},
  ): Promise<T> {
    const url = new URL(`/xrpc/${method}`, options.base ?? this.info.pds);
    for (const [name, value] of Object.entries(options.params ?? {})) {
      for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
    }
    const headers: Record<string, string> = {};
    if (options.bypass ?? true) headers['x-ratelimit-bypass'] = this.info.bypassKey;
    if (options.auth === 'admin') {
      headers.authorization = `Basic ${Buffer.from(`admin:${this.info.adminPassword}`).toString('base64')}`;
    } else if (options.auth) {
      headers.authorization = `Bearer ${options.auth}`;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
    });
    const text = await res.text();
    if (!res.ok) throw new XrpcFailure(method, res.status, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A new account; with a profile record unless `profile` is null. */
  async createAccount(prefix: string, profile: ProfileSeed | null = {}): Promise<SeedAccount> {
    counter += 1;
    const handle = `${prefix}${process.pid.toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}.test`;
    const password = `pw-${handle}`;
    const created = await this.xrpc<{ did: string; accessJwt: string }>('com.atproto.server.createAccount', {
      body: { handle, email: `${handle}@example.test`, password },
    });
    const account = { did: created.did, handle, password, accessJwt: created.accessJwt };
    if (profile !== null) {
      await this.xrpc('com.atproto.repo.putRecord', {
        auth: account.accessJwt,
        body: {
          repo: account.did,
          collection: 'app.bsky.actor.profile',
          rkey: 'self',
          record: {
            $type: 'app.bsky.actor.profile',
            displayName: profile.displayName ?? `Person ${counter}`,
            description: profile.description ?? `Bakes bread, reads books (${counter}).`,
            createdAt: new Date().toISOString(),
          },
        },
      });
    }
    return account;
  }

  /** `from` follows `subject`: the record's URI. */
  async follow(from: SeedAccount, subject: string, createdAt = new Date()): Promise<string> {
    const answer = await this.xrpc<{ uri: string }>('com.atproto.repo.createRecord', {
      auth: from.accessJwt,
      body: {
        repo: from.did,
        collection: 'app.bsky.graph.follow',
        record: { $type: 'app.bsky.graph.follow', subject, createdAt: createdAt.toISOString() },
      },
    });
    return answer.uri;
  }

  async deleteRecord(from: SeedAccount, uri: string): Promise<void> {
    const [, , , collection, rkey] = uri.split('/');
    await this.xrpc('com.atproto.repo.deleteRecord', {
      auth: from.accessJwt,
      body: { repo: from.did, collection, rkey },
    });
  }

  /** The follow records in `did`'s repo (read from the PDS: read-after-write consistent). */
  async followRecords(did: string): Promise<{ uri: string; subject: string }[]> {
    const out: { uri: string; subject: string }[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.xrpc<{
        records: { uri: string; value: { subject: string } }[];
        cursor?: string;
      }>('com.atproto.repo.listRecords', {
        params: {
          repo: did,
          collection: 'app.bsky.graph.follow',
          limit: '100',
          ...(cursor ? { cursor } : {}),
        },
      });
      out.push(...page.records.map((record) => ({ uri: record.uri, subject: record.value.subject })));
      if (!page.cursor || page.records.length === 0) return out;
      cursor = page.cursor;
    }
  }

  async deactivate(account: SeedAccount): Promise<void> {
    await this.xrpc('com.atproto.server.deactivateAccount', { auth: account.accessJwt, body: {} });
  }

  async takedown(did: string): Promise<void> {
    await this.xrpc('com.atproto.admin.updateSubjectStatus', {
      auth: 'admin',
      body: {
        subject: { $type: 'com.atproto.admin.defs#repoRef', did },
        takedown: { applied: true, ref: `followback-test-${Date.now()}` },
      },
    });
  }

  async deleteAccount(did: string): Promise<void> {
    await this.xrpc('com.atproto.admin.deleteAccount', { auth: 'admin', body: { did } });
  }

  async createAppPassword(account: SeedAccount, name = 'followback'): Promise<string> {
    const answer = await this.xrpc<{ password: string }>('com.atproto.server.createAppPassword', {
      auth: account.accessJwt,
      body: { name },
    });
    return answer.password;
  }

  async revokeAppPassword(account: SeedAccount, name = 'followback'): Promise<void> {
    await this.xrpc('com.atproto.server.revokeAppPassword', { auth: account.accessJwt, body: { name } });
  }

  /** Waits until the AppView has indexed everything the PDS sequenced. */
  async settle(): Promise<void> {
    const res = await fetch(new URL('/process', this.info.control), { method: 'POST' });
    if (!res.ok) throw new Error(`the network could not settle: ${res.status} ${await res.text()}`);
  }
}

/** Runs `work` over `items`, `concurrency` at a time, in order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        out[index] = await work(items[index]!, index);
      }
    }),
  );
  return out;
}
