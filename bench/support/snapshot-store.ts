/**
 * The snapshot bench's steady state, really written: a 1,000,000-follower list with 0.5% churn,
 * its changeset and a base snapshot put through DynamoStore into an in-process dynalite, with the
 * capacity meter counting what dynalite reports. bench/snapshot.ts computes the same figures from
 * item sizes; this measures them through the real adapter (item layout, key lengths, TTL and fence
 * attributes included).
 */
import { randomBytes } from 'node:crypto';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { attachCapacityMeter } from '../../shared/adapters/dynamo/capacity.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import type { AccountRef } from '../../shared/domain/account.ts';
import { chunkBytes, diffSorted, encodeIds, has, sortUnique } from '../../shared/domain/idset/index.ts';
import type { Changeset } from '../../shared/ports/store.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';

export interface StoredSnapshotFigures {
  n: number;
  added: number;
  removed: number;
  /** The changeset of one observation (a full-scan diff): items put and units dynalite reported. */
  changeset_items: number;
  changeset_write_units: number;
  /** The same, computed by the capacity meter from the request items (DynamoDB's rule). */
  changeset_write_units_estimated: number;
  changeset_bytes: number;
  /** A new base snapshot of the whole list. */
  base_items: number;
  base_write_units: number;
  base_write_units_estimated: number;
  base_bytes: number;
  write_ms: number;
}

const TWITTER_EPOCH_MS = 1288834974657;
const FROM_MS = Date.UTC(2010, 10, 4);
const TO_MS = Date.UTC(2026, 0, 1);
const OLD_ID_SHARE = 0.35;

type Rng = ReturnType<typeof xoroshiro128plus>;

function uniform(rng: Rng): number {
  return ((rng.next() >>> 5) * 67108864 + (rng.next() >>> 6)) / 9007199254740992;
}

function snowflake(rng: Rng, fromMs: number, toMs: number): bigint {
  const ms = Math.floor(fromMs + uniform(rng) * (toMs - fromMs)) - TWITTER_EPOCH_MS;
  return (BigInt(ms) << 22n) | BigInt((rng.next() >>> 0) & 0x3fffff);
}

/** `count` distinct ids like X's followers (a third legacy 32-bit ids, the rest snowflakes), none in `exclude`. */
function followerIds(rng: Rng, count: number, recent: boolean, exclude?: BigUint64Array): BigUint64Array {
  const draw = () =>
    recent
      ? snowflake(rng, TO_MS - 30 * 86_400_000, TO_MS)
      : uniform(rng) < OLD_ID_SHARE
        ? BigInt(1 + Math.floor(uniform(rng) * 0xfffffffe))
        : snowflake(rng, FROM_MS, TO_MS);
  let ids: BigUint64Array = new BigUint64Array(0);
  while (ids.length < count) {
    const more = new BigUint64Array(count - ids.length);
    for (let i = 0; i < more.length; i++) {
      let id = draw();
      while (exclude !== undefined && has(exclude, id)) id = draw();
      more[i] = id;
    }
    ids = concat(ids, more);
  }
  return ids;
}

function concat(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return sortUnique(out);
}

/** Items a command puts: 1 for PutItem, one per request for BatchWriteItem. */
function countItems(client: Parameters<typeof attachCapacityMeter>[0]): { readonly count: number } {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as { RequestItems?: Record<string, unknown[]> };
      if (context.commandName === 'PutItemCommand') counter.count += 1;
      if (context.commandName === 'BatchWriteItemCommand') {
        for (const requests of Object.values(input.RequestItems ?? {})) counter.count += requests.length;
      }
      return result;
    },
    { step: 'initialize', name: 'benchItemCounter' },
  );
  return counter;
}

export async function writeSnapshotThroughStore(
  options: { n?: number; churn?: number; seed?: number } = {},
): Promise<StoredSnapshotFigures> {
  const n = options.n ?? 1_000_000;
  const churn = options.churn ?? 0.005;
  const rng = xoroshiro128plus(options.seed ?? 42);
  const half = Math.round((n * churn) / 2);

  // Prepare: the previous list, the new one (half the churn joined, half left), and their diff.
  const stayed = followerIds(rng, n - half, false);
  const joined = followerIds(rng, half, true, stayed);
  const left = followerIds(rng, half, false, concat(stayed, joined));
  const previous = concat(stayed, left);
  const next = concat(stayed, joined);
  const delta = diffSorted(previous, next);
  const at = TO_MS;
  const changeset: Changeset = {
    seq: 2,
    at,
    kind: 'followers',
    source: 'full',
    added: encodeIds(delta.added),
    removed: encodeIds(delta.removed),
    addedCount: delta.added.length,
    removedCount: delta.removed.length,
    profiles: [],
  };
  const chunks = chunkBytes(encodeIds(next));

  const dynamo = await startLocalDynamo({ tableName: `bench-${randomBytes(4).toString('hex')}` });
  try {
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName });
    const meter = attachCapacityMeter(dynamo.client);
    const items = countItems(dynamo.client);
    const ref: AccountRef = { clientId: 'client-0042', accountId: 'x-account-0007' };
    // Fenced, as observe writes them (a conditional put per item).
    const fence = 1;
    const started = performance.now();

    // Act: one steady-state observation's changeset, then a new base.
    await store.putChangeset(ref, changeset, fence);
    const changesetUnits = { reported: meter.writeUnits, estimated: meter.estimatedWriteUnits };
    const changesetItems = items.count;
    await store.putBaseChunks(ref, 'followers', 2, chunks, fence);
    const writeMs = performance.now() - started;

    // Assess
    return {
      n: next.length,
      added: delta.added.length,
      removed: delta.removed.length,
      changeset_items: changesetItems,
      changeset_write_units: changesetUnits.reported,
      changeset_write_units_estimated: changesetUnits.estimated,
      changeset_bytes: changeset.added.length + changeset.removed.length,
      base_items: items.count - changesetItems,
      base_write_units: meter.writeUnits - changesetUnits.reported,
      base_write_units_estimated: meter.estimatedWriteUnits - changesetUnits.estimated,
      base_bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0),
      write_ms: writeMs,
    };
  } finally {
    await dynamo.close();
  }
}
