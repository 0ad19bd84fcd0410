import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  CorruptEncodingError,
  type CorruptEncodingReason,
  compareStringIds,
  crc32,
  decodeIds,
  decodeStringDelta,
  decodeStringIds,
  encodeIds,
  encodeStringDelta,
  encodeStringIds,
  ID_FORMAT_VERSION,
  IdEncodingKind,
  idCodecFor,
  numericIdCodec,
  parseIds,
  sortUnique,
  sortUniqueStrings,
  stringIdCodec,
} from '../../shared/domain/idset/index.ts';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A did:plc as Bluesky mints them: 24 base32 characters of a hash. */
function did(seed: string): string {
  const hash = createHash('sha256').update(seed).digest();
  let out = 'did:plc:';
  for (let k = 0; k < 24; k++) out += BASE32[hash[k]! & 31];
  return out;
}

const didArb = fc
  .array(fc.constantFrom(...BASE32), { minLength: 24, maxLength: 24 })
  .map((chars) => `did:plc:${chars.join('')}`);
const decimalArb = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => n.toString());
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const anyIdArb = fc.oneof(
  didArb,
  decimalArb,
  fc.array(printable, { minLength: 1, maxLength: 40 }).map((chars) => chars.join('')),
  fc.constantFrom(
    'did:web:example.com',
    'did:plc:',
    '0',
    '9',
    '10',
    'AAtVDMPGLJrd3ewgng',
    '01F8MH1H7YV1Z7D2C8K2730QBF',
  ),
);
/** Lists whose ids are all of one family (so each form of the codec is used), or mixed. */
const listArb = fc.oneof(
  fc.array(didArb, { maxLength: 120 }),
  fc.array(decimalArb, { maxLength: 120 }),
  fc.array(anyIdArb, { maxLength: 120 }),
);
const compressionArb = fc.constantFrom('none', 'deflate-raw', 'brotli') as fc.Arbitrary<
  'none' | 'deflate-raw' | 'brotli'
>;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** An uncompressed string-set blob with a valid CRC around the given counts and payload. */
function craft(fields: { kind?: number; counts: number[]; payload: number[] }): Uint8Array {
  const body = [
    ID_FORMAT_VERSION,
    fields.kind ?? IdEncodingKind.stringSet,
    0,
    ...fields.counts.flatMap(varint),
    ...varint(fields.payload.length),
    ...fields.payload,
  ];
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)), true);
  return out;
}

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

function corruption(run: () => unknown): CorruptEncodingReason {
  try {
    run();
  } catch (error) {
    if (error instanceof CorruptEncodingError) return error.reason;
    throw error;
  }
  throw new Error('expected a CorruptEncodingError, and decoding succeeded');
}

describe('string ids in memory', () => {
  it('sorts and deduplicates ids in shortlex order, which is numeric order for decimals', () => {
    fc.assert(
      fc.property(fc.array(decimalArb, { maxLength: 200 }), (ids) => {
        // Prepare
        const numeric = sortUnique(parseIds(ids));

        // Act
        const sorted = sortUniqueStrings([...ids, ...ids]);

        // Assess
        expect(sorted).toEqual(Array.from(numeric, (n) => n.toString()));
      }),
    );
  });

  it('keeps every id once and in strictly increasing order, whatever the mix', () => {
    fc.assert(
      fc.property(listArb, (ids) => {
        // Act
        const sorted = stringIdCodec.fromStrings(ids);

        // Assess
        expect(new Set(sorted)).toEqual(new Set(ids));
        for (let i = 1; i < sorted.length; i++) {
          expect(compareStringIds(sorted[i - 1]!, sorted[i]!)).toBe(-1);
        }
      }),
    );
  });

  it('answers membership like the list it was built from', () => {
    fc.assert(
      fc.property(listArb, fc.array(anyIdArb, { maxLength: 20 }), (ids, probes) => {
        // Prepare
        const sorted = stringIdCodec.fromStrings(ids);

        // Act / Assess
        for (const probe of [...probes, ...ids.slice(0, 20)]) {
          expect(stringIdCodec.has(sorted, probe)).toBe(ids.includes(probe));
        }
      }),
    );
  });

  it('rebuilds the next list from the previous one and their diff', () => {
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        // Prepare
        const prev = stringIdCodec.fromStrings(a);
        const next = stringIdCodec.fromStrings(b);

        // Act
        const { added, removed } = stringIdCodec.diff(prev, next);

        // Assess
        expect(stringIdCodec.apply(prev, added, removed)).toEqual(next);
        expect(added.every((id) => !a.includes(id) && b.includes(id))).toBe(true);
        expect(removed.every((id) => a.includes(id) && !b.includes(id))).toBe(true);
      }),
    );
  });

  it('refuses a delta that does not fit its base, naming the id', () => {
    // Prepare
    const base = stringIdCodec.fromStrings([did('a'), did('b')]);
    const stranger = stringIdCodec.fromStrings([did('c')]);

    // Act / Assess
    expect(() => stringIdCodec.apply(base, [], stranger)).toThrow(/is not in the base/);
    expect(() => stringIdCodec.apply(base, [base[0]!], [])).toThrow(/already in the base/);
  });

  it.each([
    ['an empty id', ''],
    ['a space', 'did:plc:abc def'],
    ['a non-ASCII character', 'did:plc:é'],
    ['a control character', 'abc\n'],
    ['an id longer than 2048 characters', `did:web:${'a'.repeat(2041)}`],
  ])('refuses %s with a ValidationError naming the index', (_, bad) => {
    // Act
    const attempt = () => stringIdCodec.fromStrings(['123', bad]);

    // Assess
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/ids\[1\]/);
  });

  it('never mixes kinds: a numeric list given to the string codec, or the reverse, is refused', () => {
    // Prepare
    const numbers = numericIdCodec.fromStrings(['1', '2']);
    const strings = stringIdCodec.fromStrings(['1', '2']);

    // Act / Assess
    expect(() => stringIdCodec.diff(numbers as never, strings)).toThrow(ValidationError);
    expect(() => numericIdCodec.has(strings as never, '1')).toThrow(ValidationError);
    expect(() => numericIdCodec.decode(stringIdCodec.encode(strings))).toThrow(CorruptEncodingError);
    expect(() => stringIdCodec.decode(numericIdCodec.encode(numbers))).toThrow(CorruptEncodingError);
  });

  it('gives X the numeric codec and the open networks the string codec', () => {
    expect([idCodecFor('x').kind, idCodecFor('bluesky').kind, idCodecFor('mastodon').kind]).toEqual([
      'numeric',
      'string',
      'string',
    ]);
  });
});

describe('string id codec', () => {
  it('round-trips any sorted list, with every compression', () => {
    fc.assert(
      fc.property(listArb, compressionArb, (ids, compression) => {
        // Prepare
        const sorted = sortUniqueStrings(ids);

        // Act
        const decoded = decodeStringIds(encodeStringIds(sorted, { compression }));

        // Assess
        expect(decoded).toEqual(sorted);
      }),
    );
  });

  it('round-trips deltas and keeps added and removed apart', () => {
    fc.assert(
      fc.property(listArb, listArb, compressionArb, (a, b, compression) => {
        // Prepare
        const delta = stringIdCodec.diff(sortUniqueStrings(a), sortUniqueStrings(b));

        // Act
        const decoded = decodeStringDelta(encodeStringDelta(delta, { compression }));

        // Assess
        expect(decoded).toEqual(delta);
      }),
    );
  });

  it('round-trips did:plc at the edges of the alphabet and of the 120 bits', () => {
    // Prepare
    const ids = sortUniqueStrings([
      `did:plc:${'2'.repeat(24)}`,
      `did:plc:${'2'.repeat(23)}3`,
      `did:plc:${'7'.repeat(24)}`,
      `did:plc:${'a'.repeat(24)}`,
      `did:plc:${'z'.repeat(23)}y`,
      `did:plc:${'z'.repeat(24)}`,
    ]);

    // Act / Assess
    expect(decodeStringIds(encodeStringIds(ids, { compression: 'none' }))).toEqual(ids);
  });

  it('stores a list of decimal ids in about the bytes the numeric codec needs', () => {
    fc.assert(
      fc.property(fc.array(decimalArb, { maxLength: 300 }), (ids) => {
        // Prepare
        const sorted = sortUniqueStrings(ids);

        // Act
        const asStrings = encodeStringIds(sorted, { compression: 'none' });
        const asNumbers = encodeIds(sortUnique(parseIds(ids)), { compression: 'none' });

        // Assess: the form byte and at most one more byte of raw length
        expect(asStrings.length - asNumbers.length).toBeGreaterThanOrEqual(1);
        expect(asStrings.length - asNumbers.length).toBeLessThanOrEqual(2);
        expect(decodeIds(asNumbers)).toEqual(sortUnique(parseIds(ids)));
      }),
    );
  });

  it('packs 10,000 DIDs in under 14 bytes each (their entropy at this size is about 13.5)', () => {
    // Prepare
    const ids = sortUniqueStrings(Array.from({ length: 10_000 }, (_, i) => did(`user-${i}`)));

    // Act
    const bytes = encodeStringIds(ids);
    const text = encodeStringIds([...ids, 'did:web:example.com'].sort(compareStringIds));

    // Assess: the did:plc form, and the text form an odd DID forces, which costs more
    expect(bytes.length / ids.length).toBeLessThan(14);
    expect(text.length / ids.length).toBeGreaterThan(bytes.length / ids.length);
    expect(decodeStringIds(bytes)).toEqual(ids);
  });

  it('detects any flipped byte', () => {
    fc.assert(
      fc.property(listArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (ids, at, mask) => {
        // Prepare
        const bytes = encodeStringIds(sortUniqueStrings(ids)).slice();
        bytes[at % bytes.length]! ^= mask;

        // Act / Assess
        expect(() => decodeStringIds(bytes)).toThrow(CorruptEncodingError);
      }),
    );
  });

  it.each<[string, CorruptEncodingReason, Parameters<typeof craft>[0]]>([
    ['an unknown form', 'header', { counts: [0], payload: [9] }],
    ['ids out of order', 'order', { counts: [2], payload: [0, 0, 1, ...ascii('b'), 0, 1, ...ascii('a')] }],
    ['a repeated id', 'order', { counts: [2], payload: [0, 0, 1, ...ascii('a'), 1, 0] }],
    ['a non-ASCII byte', 'varint', { counts: [1], payload: [0, 0, 2, 0x61, 0xc3] }],
    ['a prefix longer than the previous id', 'varint', { counts: [2], payload: [0, 0, 1, 0x61, 3, 1, 0x62] }],
    ['an empty id', 'length', { counts: [1], payload: [0, 0, 0] }],
    ['characters cut off', 'truncated', { counts: [1], payload: [0, 0, 5, 0x61] }],
    ['bytes after the last id', 'length', { counts: [1], payload: [0, 0, 1, 0x61, 0x62] }],
    ['a non-canonical varint', 'varint', { counts: [1], payload: [0, 0x80, 0x00, 1, 0x61] }],
    ['did:plc gaps cut off', 'truncated', { counts: [1], payload: [2, 0, 1, 2, 3] }],
    [
      'a did:plc gap of zero',
      'order',
      { counts: [2], payload: [2, 1, 0, ...Array(12).fill(1), ...Array(12).fill(0)] },
    ],
    [
      'a did:plc above 120 bits',
      'overflow',
      { counts: [2], payload: [2, 0xff, 0xff, 0xff, 0x07, 0xff, 0xff, 0xff, 0x07, ...Array(24).fill(0xff)] },
    ],
    [
      'a decimal id above 2^64',
      'overflow',
      {
        counts: [2],
        payload: [1, ...varint(0x7f), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      },
    ],
  ])('refuses %s', (_, reason, fields) => {
    expect(corruption(() => decodeStringIds(craft(fields)))).toBe(reason);
  });

  it('refuses a set blob read as a delta and the reverse', () => {
    // Prepare
    const set = encodeStringIds(['a']);
    const delta = encodeStringDelta({ added: ['a'], removed: [] });

    // Act / Assess
    expect(corruption(() => decodeStringDelta(set))).toBe('kind');
    expect(corruption(() => decodeStringIds(delta))).toBe('kind');
  });

  it('refuses to encode an unsorted list or an overlapping delta', () => {
    expect(() => encodeStringIds(['b', 'a'])).toThrow(ValidationError);
    expect(() => encodeStringDelta({ added: ['a'], removed: ['a'] })).toThrow(/both added and removed/);
  });
});
