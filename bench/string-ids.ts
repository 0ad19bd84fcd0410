/**
 * String id benchmark: what snapshots of Bluesky DIDs and Mastodon ids cost with the string codec
 * (shared/domain/idset/string-codec.ts), next to X's numeric ids. Figures, not a timed test.
 *
 *   npm run bench -- string-ids [--json]        (100,000 ids of each kind, 0.5 % churn)
 *   npx tsx bench/string-ids.ts [n] [churn] [seed]
 *
 * For each kind of id: bytes per id of a full snapshot (brotli q1, the default), of the text form
 * without compression, and at brotli q4 and q11; sorting platform strings into a list; diff against the
 * previous snapshot; encode and decode times; a membership check.
 */
import { createHash } from 'node:crypto';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { type IdCodec, numericIdCodec, stringIdCodec } from '../shared/domain/idset/index.ts';
import { defined } from '../shared/domain/invariant.ts';
import { type BenchFigures, type BenchOptions, show, table } from './support/bench.ts';

export interface StringIdFigures {
  kind: string;
  n: number;
  sample: string;
  bytes_per_id: number;
  bytes_per_id_uncompressed: number;
  bytes_per_id_brotli_q4: number;
  bytes_per_id_brotli_q11: number;
  from_strings_ms: number;
  diff_ms: number;
  encode_ms: number;
  decode_ms: number;
  delta_bytes: number;
  has_ns: number;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function did(i: number, seed: number): string {
  const hash = createHash('sha256').update(`${seed}|${i}`).digest();
  let out = 'did:plc:';
  for (const byte of hash.subarray(0, 24)) out += BASE32.charAt(byte & 31);
  return out;
}

function mastodonId(rng: { next: () => number }): string {
  const at = BigInt(Date.UTC(2022, 10, 1) + Math.floor(rng.next() * 3 * 365 * 86_400_000));
  return ((at << 16n) | BigInt(Math.floor(rng.next() * 65536))).toString();
}

function ulid(rng: { next: () => number }): string {
  let at = Date.UTC(2022, 10, 1) + Math.floor(rng.next() * 3 * 365 * 86_400_000);
  let time = '';
  for (let k = 0; k < 10; k++) {
    time = CROCKFORD.charAt(at % 32) + time;
    at = Math.floor(at / 32);
  }
  let rest = '';
  for (let k = 0; k < 16; k++) rest += CROCKFORD.charAt(Math.floor(rng.next() * 32));
  return time + rest;
}

function xSnowflake(rng: { next: () => number }): string {
  const at = BigInt(Date.UTC(2016, 0, 1) + Math.floor(rng.next() * 10 * 365 * 86_400_000) - 1288834974657);
  return ((at << 22n) | BigInt(Math.floor(rng.next() * 4_194_304))).toString();
}

function timed<T>(run: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = run();
  return [value, Number(process.hrtime.bigint() - start) / 1e6];
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function measure(kind: string, codec: IdCodec, raw: string[], churn: number, seed: number): StringIdFigures {
  let state = xoroshiro128plus(seed);
  const draw = (max: number) => {
    const [value, next] = [uniformInt(state, 0, max - 1), state];
    state = next;
    return value;
  };
  const n = raw.length;
  const prevRaw = raw.slice();
  // The previous snapshot lacks churn/2 of today's ids and has churn/2 that left since.
  const gone = Math.floor((n * churn) / 2);
  for (let k = 0; k < gone; k++) prevRaw[draw(n)] = `${defined(raw[draw(n)], 'a drawn id')}x`;
  const prev = codec.fromStrings(codec.kind === 'numeric' ? raw.slice(gone) : prevRaw);
  const [next, fromStringsMs] = timed(() => codec.fromStrings(raw));
  const [delta, diffMs] = timed(() => codec.diff(prev, next));
  const [bytes, encodeMs] = timed(() => codec.encode(next));
  const [, decodeMs] = timed(() => codec.decode(bytes));
  const probes = raw.slice(0, 10_000);
  const [, hasMs] = timed(() => {
    for (const id of probes) codec.has(next, id);
  });
  const deltaBytes = codec.encode(delta.added).length + codec.encode(delta.removed).length;
  return {
    kind,
    n,
    sample: defined(raw[0], 'the first id'),
    bytes_per_id: round(bytes.length / next.length),
    bytes_per_id_uncompressed: round(codec.encode(next, { compression: 'none' }).length / next.length),
    bytes_per_id_brotli_q4: round(codec.encode(next, { level: 4 }).length / next.length),
    bytes_per_id_brotli_q11: round(codec.encode(next, { level: 11 }).length / next.length),
    from_strings_ms: round(fromStringsMs, 1),
    diff_ms: round(diffMs, 1),
    encode_ms: round(encodeMs, 1),
    decode_ms: round(decodeMs, 1),
    delta_bytes: deltaBytes,
    has_ns: round((hasMs * 1e6) / probes.length, 0),
  };
}

export function runStringIdBench(
  options: { n?: number | undefined; churn?: number | undefined; seed?: number | undefined } = {},
): StringIdFigures[] {
  const n = options.n ?? 100_000;
  const churn = options.churn ?? 0.005;
  const seed = options.seed ?? 1;
  let state = xoroshiro128plus(seed);
  const rng = {
    next() {
      const value = uniformInt(state, 0, 0x3fffffff) / 0x40000000;
      return value;
    },
  };
  const advance = () => {
    state = xoroshiro128plus(uniformInt(state, 0, 0x7fffffff));
  };
  const dids = Array.from({ length: n }, (_, i) => did(i, seed));
  advance();
  const mastodon = Array.from({ length: n }, () => mastodonId(rng));
  const ulids = Array.from({ length: n }, () => ulid(rng));
  const x = Array.from({ length: n }, () => xSnowflake(rng));
  // A first pass warms the JIT; the figures are from the second.
  measure('warm-up', stringIdCodec as IdCodec, dids.slice(0, 20_000), churn, seed);
  measure('warm-up', stringIdCodec as IdCodec, mastodon.slice(0, 20_000), churn, seed);
  return [
    measure('bluesky did:plc (string codec, did:plc form)', stringIdCodec as IdCodec, dids, churn, seed),
    measure(
      'mastodon decimal ids (string codec, decimal form)',
      stringIdCodec as IdCodec,
      mastodon,
      churn,
      seed,
    ),
    measure('ULIDs, e.g. GoToSocial (string codec, text form)', stringIdCodec as IdCodec, ulids, churn, seed),
    measure('x snowflakes (numeric codec, for reference)', numericIdCodec as IdCodec, x, churn, seed),
  ];
}

/** Figure keys per kind of id, in the order runStringIdBench measures them. */
const KEYS = ['bluesky', 'mastodon', 'ulid', 'x'] as const;

export async function run({ out, progress }: BenchOptions): Promise<BenchFigures> {
  progress('string-ids: 100,000 ids of each kind…');
  const measured = runStringIdBench();
  out(
    `String id codecs: ${show(defined(measured[0], 'the first kind measured').n)} ids of each kind, 0.5 % churn`,
  );
  const rows = measured.map((m) => [
    m.kind,
    show(m.bytes_per_id),
    show(m.bytes_per_id_uncompressed),
    show(m.bytes_per_id_brotli_q11),
    `${show(m.from_strings_ms, 1)} ms`,
    `${show(m.diff_ms, 1)} ms`,
    `${show(m.encode_ms, 1)} / ${show(m.decode_ms, 1)} ms`,
    `${show(m.has_ns, 0)} ns`,
  ]);
  const header = ['ids', 'bytes/id', 'uncompressed', 'brotli q11', 'sort', 'diff', 'encode / decode', 'has'];
  for (const line of table(header, rows)) out(line);
  const figures: BenchFigures = {};
  measured.forEach((m, index) => {
    const key = defined(KEYS[index], 'the figure key of each kind measured');
    figures[`string_ids_${key}_bytes_per_id`] = m.bytes_per_id;
    figures[`string_ids_${key}_encode_ms`] = m.encode_ms;
    figures[`string_ids_${key}_decode_ms`] = m.decode_ms;
  });
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n, churn, seed] = process.argv.slice(2).map(Number);
  const figures = runStringIdBench({
    n: Number.isFinite(n) ? n : undefined,
    churn: Number.isFinite(churn) ? churn : undefined,
    seed: Number.isFinite(seed) ? seed : undefined,
  });
  console.log(JSON.stringify(figures, null, 2));
}
