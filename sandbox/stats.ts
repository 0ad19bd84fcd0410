/**
 * Request accounting of a sandbox server, per endpoint: what a benchmark needs to price a run
 * (X bills per user returned, once per app and UTC day) and what an invariant test needs to prove "no 429 in steady state".
 */

export interface EndpointStats {
  requests: number;
  /** Users in the `data` of answers (X bills reads per user returned). */
  usersReturned: number;
  /** Of those, users billed (X: once per app, user and UTC day; zero where reads are free). */
  usersBilled: number;
  /** 429 answers, real or injected. */
  rateLimited: number;
  /** Answers replaced by an injected fault (including injected 429s). */
  faults: number;
  /** Answers by HTTP status (timeouts, which never answer, are not here). */
  byStatus: Record<string, number>;
}

export interface StatsTotals {
  requests: number;
  usersReturned: number;
  usersBilled: number;
  rateLimited: number;
  faults: number;
  /** Follow calls that reached the world (answered 200 or applied before a fault). */
  followCalls: number;
  /** Follow calls for a user the caller already followed or had already asked to follow. */
  duplicateFollowCalls: number;
}

export interface StatsSnapshot {
  endpoints: Record<string, EndpointStats>;
  totals: StatsTotals;
}

export interface RequestRecord {
  status?: number | undefined;
  users?: number | undefined;
  billed?: number | undefined;
  fault?: boolean | undefined;
}

export class SandboxStats {
  #endpoints = new Map<string, EndpointStats>();
  #followCalls = 0;
  #duplicateFollowCalls = 0;

  /** Counts one request to `endpoint`. */
  record(endpoint: string, record: RequestRecord = {}): void {
    const stats = this.#endpoint(endpoint);
    stats.requests++;
    stats.usersReturned += record.users ?? 0;
    stats.usersBilled += record.billed ?? 0;
    if (record.fault) stats.faults++;
    if (record.status !== undefined) {
      stats.byStatus[record.status] = (stats.byStatus[record.status] ?? 0) + 1;
      if (record.status === 429) stats.rateLimited++;
    }
  }

  recordFollowCall(duplicate: boolean): void {
    this.#followCalls++;
    if (duplicate) this.#duplicateFollowCalls++;
  }

  endpoint(endpoint: string): EndpointStats {
    return structuredClone(this.#endpoint(endpoint));
  }

  snapshot(): StatsSnapshot {
    const endpoints: Record<string, EndpointStats> = {};
    const totals: StatsTotals = {
      requests: 0,
      usersReturned: 0,
      usersBilled: 0,
      rateLimited: 0,
      faults: 0,
      followCalls: this.#followCalls,
      duplicateFollowCalls: this.#duplicateFollowCalls,
    };
    for (const [name, stats] of this.#endpoints) {
      endpoints[name] = structuredClone(stats);
      totals.requests += stats.requests;
      totals.usersReturned += stats.usersReturned;
      totals.usersBilled += stats.usersBilled;
      totals.rateLimited += stats.rateLimited;
      totals.faults += stats.faults;
    }
    return { endpoints, totals };
  }

  reset(): void {
    this.#endpoints = new Map();
    this.#followCalls = 0;
    this.#duplicateFollowCalls = 0;
  }

  #endpoint(endpoint: string): EndpointStats {
    let stats = this.#endpoints.get(endpoint);
    if (!stats) {
      stats = { requests: 0, usersReturned: 0, usersBilled: 0, rateLimited: 0, faults: 0, byStatus: {} };
      this.#endpoints.set(endpoint, stats);
    }
    return stats;
  }
}
