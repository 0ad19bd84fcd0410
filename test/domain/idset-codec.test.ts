import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import { crc32Portable } from '../../shared/domain/idset/crc32.ts';
import {
  CorruptEncodingError,
  type CorruptEncodingReason,
  crc32,
  decodeDelta,
  decodeIds,
  encodeDelta,
  encodeIds,
  ID_FORMAT_VERSION,
  IdEncodingKind,
  peekEncoding,
  sortUnique,
} from '../../shared/domain/idset/index.ts';

const MAX_ID = 2n ** 64n - 1n;

/** Ids across the whole range, with the edges and the 2^32 / 2^53 boundaries often. */
const idArb = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX_ID }),
  fc.bigInt({ min: 0n, max: 2n ** 32n }),
  fc.bigInt({ min: 2n ** 53n - 4n, max: 2n ** 53n + 4n }),
  fc.constantFrom(0n, 1n, 2n ** 32n - 1n, 2n ** 32n, MAX_ID - 1n, MAX_ID),
);
const idSetArb = fc.uniqueArray(idArb, { maxLength: 200 }).map((ids) => BigUint64Array.from(ids).sort());
const compressionArb = fc.constantFrom('none', 'deflate-raw', 'brotli') as fc.Arbitrary<
  'none' | 'deflate-raw' | 'brotli'
>;

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** An uncompressed blob with a valid CRC around the given header fields and payload bytes. */
function craft(fields: {
  version?: number;
  kind?: number;
  method?: number;
  header: number[];
  payload: number[];
}): Uint8Array {
  const body = [
    fields.version ?? ID_FORMAT_VERSION,
    fields.kind ?? IdEncodingKind.numericSet,
    fields.method ?? 0,
    ...fields.header.flatMap((n) => varint(BigInt(n))),
    ...fields.payload,
  ];
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)), true);
  return out;
}

function refusal(run: () => unknown): CorruptEncodingError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptEncodingError);
    return error as CorruptEncodingError;
  }
  throw new Error('expected the input to be refused');
}

describe('encodeIds / decodeIds', () => {
  it('round trips any sorted set, whatever the compression', () => {
    fc.assert(
      fc.property(idSetArb, compressionArb, (ids, compression) => {
        // Act
        const decoded = decodeIds(encodeIds(ids, { compression }));

        // Assess
        expect([...decoded]).toEqual([...ids]);
      }),
    );
  });

  it.each([
    ['the empty set', []],
    ['zero alone', [0n]],
    ['the largest id alone', [MAX_ID]],
    ['both ends', [0n, 1n, MAX_ID]],
    ['the 32-bit boundary', [2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n]],
  ])('round trips %s', (_name, ids) => {
    // Prepare
    const set = BigUint64Array.from(ids);

    // Act
    const bytes = encodeIds(set);

    // Assess
    expect([...decodeIds(bytes)]).toEqual(ids);
    expect(peekEncoding(bytes)).toEqual({ version: ID_FORMAT_VERSION, kind: IdEncodingKind.numericSet });
  });

  it('round trips a large realistic set at under 6 bytes per id', () => {
    // Prepare: 35% old 32-bit ids, the rest snowflakes from 2010 to 2026
    const ids = new BigUint64Array(50_000);
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < ids.length; i++) {
      ids[i] =
        i % 20 < 7
          ? BigInt(next() + 1)
          : (BigInt(Math.floor((next() / 2 ** 32) * 4.9e11)) << 22n) | BigInt(next() & 0x3fffff);
    }
    const sorted = sortUnique(ids);

    // Act
    const bytes = encodeIds(sorted);

    // Assess
    expect([...decodeIds(bytes)]).toEqual([...sorted]);
    expect(bytes.length / sorted.length).toBeLessThan(6);
  });

  it('decodes bytes that sit at an offset inside a larger buffer, as SDK buffers do', () => {
    // Prepare
    const bytes = encodeIds(BigUint64Array.of(3n, 1790000000000000001n));
    const pool = new Uint8Array(bytes.length + 13);
    pool.set(bytes, 13);

    // Act
    const decoded = decodeIds(Buffer.from(pool.buffer, 13, bytes.length));

    // Assess
    expect([...decoded]).toEqual([3n, 1790000000000000001n]);
  });

  it('refuses to encode ids that are not sorted and duplicate-free', () => {
    expect(() => encodeIds(BigUint64Array.of(2n, 1n))).toThrow(ValidationError);
    expect(() => encodeIds(BigUint64Array.of(1n, 1n))).toThrow(ValidationError);
  });

  it('stores tiny sets uncompressed when compression would not help', () => {
    // Act
    const bytes = encodeIds(BigUint64Array.of(12n));

    // Assess: version, kind, method 0, count 1, raw length 1, the id, 4 CRC bytes
    expect(bytes.length).toBe(3 + 1 + 1 + 1 + 4);
    expect(bytes[2]).toBe(0);
  });
});

describe('encodeDelta / decodeDelta', () => {
  it('round trips any pair of disjoint sorted sets', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, compressionArb, (a, b, compression) => {
        // Prepare
        const inA = new Set(a);
        const removed = b.filter((id) => !inA.has(id));

        // Act
        const decoded = decodeDelta(encodeDelta({ added: a, removed }, { compression }));

        // Assess
        expect([...decoded.added]).toEqual([...a]);
        expect([...decoded.removed]).toEqual([...removed]);
      }),
    );
  });

  it('refuses a delta that adds and removes the same id', () => {
    // Act / Assess
    expect(() => encodeDelta({ added: BigUint64Array.of(1n, 5n), removed: BigUint64Array.of(5n) })).toThrow(
      /id 5 is both added and removed/,
    );
  });

  it('will not decode a delta as a set, nor a set as a delta', () => {
    // Prepare
    const delta = encodeDelta({ added: BigUint64Array.of(1n), removed: BigUint64Array.of(2n) });
    const set = encodeIds(BigUint64Array.of(1n));

    // Act / Assess
    expect(refusal(() => decodeIds(delta)).reason).toBe('kind');
    expect(refusal(() => decodeDelta(set)).reason).toBe('kind');
  });
});

describe('corrupt input', () => {
  it('refuses a blob with any byte flipped', () => {
    fc.assert(
      fc.property(
        idSetArb,
        compressionArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (ids, compression, at, mask) => {
          // Prepare
          const bytes = encodeIds(ids, { compression });
          const position = at % bytes.length;
          bytes[position]! ^= mask;

          // Act / Assess
          refusal(() => decodeIds(bytes));
        },
      ),
    );
  });

  it('refuses a blob cut short anywhere', () => {
    fc.assert(
      fc.property(idSetArb, compressionArb, fc.nat(), (ids, compression, at) => {
        // Prepare
        const bytes = encodeIds(ids, { compression });
        const cut = bytes.subarray(0, at % bytes.length);

        // Act / Assess
        refusal(() => decodeIds(cut));
      }),
    );
  });

  it('refuses a blob with bytes appended', () => {
    // Prepare
    const bytes = encodeIds(BigUint64Array.of(1n, 2n, 3n));
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);

    // Act / Assess
    refusal(() => decodeIds(longer));
  });

  it('refuses an unknown format version', () => {
    // Prepare
    const bytes = encodeIds(BigUint64Array.of(1n, 2n));
    bytes[0] = ID_FORMAT_VERSION + 1;

    // Act / Assess
    expect(refusal(() => decodeIds(bytes)).reason).toBe('version');
  });

  it('names the reason and says so in the message', () => {
    // Act
    const error = refusal(() => decodeIds(new Uint8Array([1, 1])));

    // Assess
    expect(error.reason).toBe('truncated');
    expect(error.name).toBe('CorruptEncodingError');
    expect(error.message).toContain('corrupt id encoding (truncated)');
    expect(error.details).toEqual({ reason: 'truncated' });
  });

  // Blobs with a valid checksum but broken structure: the decoder's own checks must catch them.
  it.each<[string, Parameters<typeof craft>[0], CorruptEncodingReason]>([
    ['ids that do not increase', { header: [2, 2], payload: [5, 0] }, 'order'],
    ['a varint cut short', { header: [1, 1], payload: [0x85] }, 'varint'],
    ['an overlong varint', { header: [1, 2], payload: [0x85, 0x00] }, 'varint'],
    ['a count above what the payload holds', { header: [3, 2], payload: [1, 1] }, 'header'],
    ['a count below what the payload holds', { header: [1, 2], payload: [1, 1] }, 'length'],
    ['a raw length that disagrees with the payload', { header: [1, 1], payload: [1, 1] }, 'length'],
    [
      'a varint longer than 64 bits',
      { header: [1, 10], payload: [...Array(9).fill(0xff), 0x02] },
      'overflow',
    ],
    ['ids that pass 2^64 - 1', { header: [2, 11], payload: [...varint(MAX_ID), ...varint(1n)] }, 'overflow'],
    ['an unknown kind', { kind: 9, header: [0, 0], payload: [] }, 'kind'],
    ['an unknown compression method', { method: 7, header: [1, 1], payload: [1] }, 'compression'],
    [
      'a compressed payload that is not one',
      { method: 1, header: [1, 1], payload: [0xff, 0xff] },
      'compression',
    ],
    ['a huge count', { header: [2 ** 40, 2 ** 40], payload: [] }, 'header'],
  ])('refuses %s', (_name, fields, reason) => {
    // Prepare
    const bytes = craft(fields);

    // Act / Assess
    expect(refusal(() => decodeIds(bytes)).reason).toBe(reason);
  });

  it('decodes a crafted blob that is well formed (so the refusals above are about their flaw)', () => {
    // Prepare
    const bytes = craft({ header: [3, 12], payload: [...varint(5n), ...varint(1n), ...varint(MAX_ID - 6n)] });

    // Act / Assess
    expect([...decodeIds(bytes)]).toEqual([5n, 6n, MAX_ID]);
  });
});

describe('crc32', () => {
  it('matches the standard check value, natively and portably', () => {
    // Prepare
    const bytes = new TextEncoder().encode('123456789');

    // Act / Assess
    expect(crc32Portable(bytes)).toBe(0xcbf43926);
    expect(crc32(bytes)).toBe(0xcbf43926);
  });

  it('agrees between the native and portable versions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32(bytes)).toBe(crc32Portable(bytes));
      }),
    );
  });
});
