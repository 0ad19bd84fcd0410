/**
 * Snapshot benchmark: what observing a 1,000,000-follower account costs with compact id sets,
 * against the naive one-item-per-follower design. Figures, not a timed test.
 *
 * The integrator wires runSnapshotBench into `npm run bench -- observe`; for a quick look run
 * `npx tsx bench/snapshot.ts [n] [churn] [seed]`.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import {
  chunkBytes,
  decodeIds,
  diffSorted,
  type EncodeOptions,
  encodeDelta,
  encodeIds,
  formatIds,
  has,
  itemSizeBytes,
  itemWriteUnits,
  MAX_CHUNK_BYTES,
  parseIds,
  sortUnique,
} from '../shared/domain/idset/index.ts';
import { defined } from '../shared/domain/invariant.ts';

export interface SnapshotBenchOptions {
  /** Followers in the new list (default 1,000,000). */
  n?: number | undefined;
  /** Share of the list that changed since the previous snapshot, half new followers, half gone (default 0.005). */
  churn?: number | undefined;
  seed?: number | undefined;
  /** Also time the other compression methods on the full snapshot (default true). */
  compareCompression?: boolean;
}

export interface CompressionFigures {
  method: string;
  bytes_per_id: number;
  encode_ms: number;
  decode_ms: number;
}

export interface SnapshotFigures {
  n: number;
  churn: number;
  seed: number;
  added: number;
  removed: number;
  /** Decode of the stored previous snapshot (not part of diff_encode_ms). */
  decode_prev_ms: number;
  parse_ms: number;
  sort_ms: number;
  diff_ms: number;
  encode_delta_ms: number;
  encode_full_ms: number;
  /** parse + sort + diff + encode of the delta and of the full snapshot (a base-writing observation). */
  diff_encode_ms: number;
  /** Process peak resident set (getrusage maxRSS), generation of the input included. */
  peak_rss_mb: number;
  /** RSS once the input strings exist, before the measured pipeline. */
  rss_before_mb: number;
  /** Encoded full snapshot size per id. */
  bytes_per_id: number;
  full_bytes: number;
  /** Encoded changeset (added + removed) size. */
  delta_bytes: number;
  /** Steady state: changeset items written per observation and their write units. */
  items_written: number;
  write_units: number;
  /** A new base snapshot: chunk items and their write units. */
  base_items_written: number;
  base_write_units: number;
  /** Naive design (one item per follower), full rewrite. */
  naive_items_written: number;
  naive_write_units: number;
  /** Naive design, only the churn: a put per new follower, a delete per gone one. */
  naive_churn_items_written: number;
  naive_churn_write_units: number;
  /** write_units / naive_write_units and / naive_churn_write_units. */
  write_units_vs_naive: number;
  write_units_vs_naive_churn: number;
  compression: CompressionFigures[];
}

const TWITTER_EPOCH_MS = 1288834974657;
const SNOWFLAKE_FROM_MS = Date.UTC(2010, 10, 4);
const SNOWFLAKE_TO_MS = Date.UTC(2026, 0, 1);
const RECENT_FROM_MS = SNOWFLAKE_TO_MS - 30 * 86_400_000;
/** Share of old sequential (32-bit) ids among followers. */
const OLD_ID_SHARE = 0.35;
const OBSERVED_AT = SNOWFLAKE_TO_MS;
const PK = 'acct#client-0042#x-account-0007#followers';

type Rng = ReturnType<typeof xoroshiro128plus>;

function uniform(rng: Rng): number {
  const a = rng.next() >>> 5;
  const b = rng.next() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

function snowflake(rng: Rng, fromMs: number, toMs: number): bigint {
  const ms = Math.floor(fromMs + uniform(rng) * (toMs - fromMs)) - TWITTER_EPOCH_MS;
  const workerAndSequence = (rng.next() >>> 0) & 0x3fffff;
  return (BigInt(ms) << 22n) | BigInt(workerAndSequence);
}

function mixedId(rng: Rng): bigint {
  if (uniform(rng) < OLD_ID_SHARE) return BigInt(1 + Math.floor(uniform(rng) * 0xfffffffe));
  return snowflake(rng, SNOWFLAKE_FROM_MS, SNOWFLAKE_TO_MS);
}

/** `count` distinct ids from `make`, none in `exclude` (sorted), as a sorted set. */
function distinctIds(count: number, make: () => bigint, exclude: BigUint64Array): BigUint64Array {
  let ids: BigUint64Array = new BigUint64Array(0);
  while (ids.length < count) {
    const more = new BigUint64Array(count - ids.length);
    for (let i = 0; i < more.length; i++) {
      let id = make();
      while (has(exclude, id)) id = make();
      more[i] = id;
    }
    const merged = new BigUint64Array(ids.length + more.length);
    merged.set(ids);
    merged.set(more, ids.length);
    ids = sortUnique(merged);
  }
  return ids;
}

function shuffle(ids: BigUint64Array, rng: Rng): void {
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(uniform(rng) * (i + 1));
    const t = defined(ids[i], 'an id of the array');
    ids[i] = defined(ids[j], 'an id of the array');
    ids[j] = t;
  }
}

function withoutIds(base: BigUint64Array, drop: BigUint64Array): BigUint64Array {
  const gone = new Set(drop);
  return base.filter((id) => !gone.has(id));
}

function mergeIds(a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return sortUnique(out);
}

function rssMb(): number {
  return process.memoryUsage.rss() / 1_048_576;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function time<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

/** Items and write units of storing a blob: one item per chunk, keyed by a sequence number. */
function blobItems(
  blob: Uint8Array,
  sk: string,
  extra: Record<string, number>,
): { items: number; units: number } {
  const chunks = chunkBytes(blob, MAX_CHUNK_BYTES);
  let units = 0;
  chunks.forEach((chunk, seq) => {
    const size = itemSizeBytes({
      pk: PK,
      sk: `${sk}#${String(seq).padStart(4, '0')}`,
      data: chunk,
      chunks: chunks.length,
      at: OBSERVED_AT,
      ...extra,
    });
    units += itemWriteUnits(size);
  });
  return { items: chunks.length, units };
}

/** Write units of putting (or deleting: billed by the deleted item's size) one item per follower. */
function naiveUnits(ids: BigUint64Array): number {
  let units = 0;
  for (const id of ids) {
    units += itemWriteUnits(itemSizeBytes({ pk: PK, sk: id.toString(), followedAt: OBSERVED_AT }));
  }
  return units;
}

export async function runSnapshotBench(options: SnapshotBenchOptions = {}): Promise<SnapshotFigures> {
  const n = options.n ?? 1_000_000;
  const churn = options.churn ?? 0.005;
  const seed = options.seed ?? 42;
  const rng = xoroshiro128plus(seed);

  // Prepare: the new follower list as the API gives it (decimal strings, no particular id order),
  // and the previous snapshot as the store holds it (encoded).
  const newFollowerCount = Math.round((n * churn) / 2);
  const goneCount = Math.round((n * churn) / 2);
  const newFollowers = distinctIds(
    newFollowerCount,
    () => snowflake(rng, RECENT_FROM_MS, SNOWFLAKE_TO_MS),
    new BigUint64Array(0),
  );
  const stayed = distinctIds(n - newFollowerCount, () => mixedId(rng), newFollowers);
  const next = mergeIds(stayed, newFollowers);
  const stayedOrNew = next;
  const gone = distinctIds(
    goneCount,
    () => mixedId(rng),
    stayedOrNew.length < 1_000_000 ? stayedOrNew : new BigUint64Array(0),
  );
  const prev = mergeIds(withoutIds(next, newFollowers), gone);
  const prevBlob = encodeIds(prev);
  const apiOrder = next.slice();
  shuffle(apiOrder, rng);
  const apiStrings = formatIds(apiOrder);
  await new Promise((resolve) => setImmediate(resolve));
  const rssBefore = rssMb();

  // Act: the observation pipeline, each phase timed.
  const [prevIds, decodePrevMs] = time(() => decodeIds(prevBlob));
  const [parsed, parseMs] = time(() => parseIds(apiStrings));
  const [sorted, sortMs] = time(() => sortUnique(parsed));
  const [delta, diffMs] = time(() => diffSorted(prevIds, sorted));
  const [deltaBlob, encodeDeltaMs] = time(() => encodeDelta(delta));
  const [fullBlob, encodeFullMs] = time(() => encodeIds(sorted));
  const peakRssMb = Math.max(rssMb(), process.resourceUsage().maxRSS / 1024);

  // Assess: storage and write units of each design.
  const changeset = blobItems(deltaBlob, `chg#${OBSERVED_AT}`, {
    added: delta.added.length,
    removed: delta.removed.length,
  });
  const base = blobItems(fullBlob, `snap#${OBSERVED_AT}`, { count: sorted.length });
  const naiveFull = naiveUnits(sorted);
  const naiveChurn = naiveUnits(delta.added) + naiveUnits(delta.removed);

  const compression: CompressionFigures[] = [];
  if (options.compareCompression ?? true) {
    const methods: [string, EncodeOptions][] = [
      ['none', { compression: 'none' }],
      ['deflate-raw level 1', { compression: 'deflate-raw', level: 1 }],
      ['deflate-raw level 6', { compression: 'deflate-raw', level: 6 }],
      ['brotli quality 1 (default)', { compression: 'brotli', level: 1 }],
      ['brotli quality 4', { compression: 'brotli', level: 4 }],
    ];
    for (const [method, encodeOptions] of methods) {
      const [blob, encodeMs] = time(() => encodeIds(sorted, encodeOptions));
      const [, decodeMs] = time(() => decodeIds(blob));
      compression.push({
        method,
        bytes_per_id: round(blob.length / sorted.length, 3),
        encode_ms: round(encodeMs),
        decode_ms: round(decodeMs),
      });
    }
  }

  const diffEncodeMs = parseMs + sortMs + diffMs + encodeDeltaMs + encodeFullMs;
  return {
    n: sorted.length,
    churn,
    seed,
    added: delta.added.length,
    removed: delta.removed.length,
    decode_prev_ms: round(decodePrevMs),
    parse_ms: round(parseMs),
    sort_ms: round(sortMs),
    diff_ms: round(diffMs),
    encode_delta_ms: round(encodeDeltaMs),
    encode_full_ms: round(encodeFullMs),
    diff_encode_ms: round(diffEncodeMs),
    peak_rss_mb: round(peakRssMb),
    rss_before_mb: round(rssBefore),
    bytes_per_id: round(fullBlob.length / sorted.length, 3),
    full_bytes: fullBlob.length,
    delta_bytes: deltaBlob.length,
    items_written: changeset.items,
    write_units: changeset.units,
    base_items_written: base.items,
    base_write_units: base.units,
    naive_items_written: sorted.length,
    naive_write_units: naiveFull,
    naive_churn_items_written: delta.added.length + delta.removed.length,
    naive_churn_write_units: naiveChurn,
    write_units_vs_naive: round(changeset.units / naiveFull, 6),
    write_units_vs_naive_churn: round(changeset.units / naiveChurn, 6),
    compression,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n, churn, seed] = process.argv.slice(2).map(Number);
  const figures = await runSnapshotBench({
    n: n || undefined,
    churn: churn || undefined,
    seed: seed || undefined,
  });
  console.log(JSON.stringify(figures, null, 2));
}
