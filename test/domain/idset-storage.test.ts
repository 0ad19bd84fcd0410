import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  chunkBytes,
  DYNAMO_MAX_ITEM_BYTES,
  decodeIds,
  encodeIds,
  itemSizeBytes,
  itemWriteUnits,
  joinChunks,
  MAX_CHUNK_BYTES,
  numberSize,
  sortUnique,
  valueSize,
} from '../../shared/domain/idset/index.ts';

describe('chunkBytes / joinChunks', () => {
  it('splits into pieces no larger than the limit that join back to the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.integer({ min: 1, max: 64 }), (bytes, maxBytes) => {
        // Act
        const chunks = chunkBytes(bytes, maxBytes);

        // Assess
        expect(joinChunks(chunks)).toEqual(bytes);
        expect(chunks.length).toBe(Math.max(1, Math.ceil(bytes.length / maxBytes)));
        for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(maxBytes);
        for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBe(maxBytes);
      }),
    );
  });

  it('gives one empty chunk for empty input, so a blob always has a first item', () => {
    expect(chunkBytes(new Uint8Array(0))).toEqual([new Uint8Array(0)]);
  });

  it('returns copies, so changing the input later does not change a chunk', () => {
    // Prepare
    const bytes = Uint8Array.of(1, 2, 3, 4);
    const chunks = chunkBytes(bytes, 2);

    // Act
    bytes[0] = 9;

    // Assess
    expect(chunks[0]).toEqual(Uint8Array.of(1, 2));
  });

  it('carries an encoded snapshot across items and back', () => {
    // Prepare
    const ids = new BigUint64Array(30_000);
    let seed = 11;
    for (let i = 0; i < ids.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      ids[i] = (BigInt(seed) << 22n) | BigInt(seed & 0x3fffff);
    }
    const bytes = encodeIds(sortUnique(ids));

    // Act
    const chunks = chunkBytes(bytes, 10_000);

    // Assess
    expect(chunks.length).toBeGreaterThan(1);
    expect([...decodeIds(joinChunks(chunks))]).toEqual([...sortUnique(ids)]);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => chunkBytes(Uint8Array.of(1), 0)).toThrow(ValidationError);
    expect(() => chunkBytes(Uint8Array.of(1), 1.5)).toThrow(ValidationError);
    expect(() => chunkBytes(Uint8Array.of(1), Number.NaN)).toThrow(ValidationError);
  });

  it('leaves room for keys and attributes under the DynamoDB item limit', () => {
    // Prepare: a full chunk item with generous keys
    const item = {
      pk: `acct#${'c'.repeat(100)}#${'a'.repeat(100)}#followers`,
      sk: `snap#1767225600000#${'9'.repeat(20)}#0001`,
      data: new Uint8Array(MAX_CHUNK_BYTES),
      chunks: 9999,
      count: 1_000_000_000,
      at: 1767225600000,
    };

    // Act / Assess
    expect(itemSizeBytes(item)).toBeLessThan(DYNAMO_MAX_ITEM_BYTES - 50_000);
  });
});

describe('DynamoDB sizing', () => {
  it('bills one write unit per started KB, at least one', () => {
    expect(itemWriteUnits(0)).toBe(1);
    expect(itemWriteUnits(1)).toBe(1);
    expect(itemWriteUnits(1024)).toBe(1);
    expect(itemWriteUnits(1025)).toBe(2);
    expect(itemWriteUnits(350_100)).toBe(342);
    expect(() => itemWriteUnits(-1)).toThrow(ValidationError);
  });

  it('counts attribute names and string values in UTF-8 bytes', () => {
    expect(itemSizeBytes({ pk: 'abc' })).toBe(2 + 3);
    expect(itemSizeBytes({ é: 'é' })).toBe(2 + 2);
    expect(itemSizeBytes({ n: '😀' })).toBe(1 + 4);
  });

  it('counts binary by its raw length, booleans and null as one byte', () => {
    expect(itemSizeBytes({ data: new Uint8Array(1000), ok: true, gone: null })).toBe(
      4 + 1000 + 2 + 1 + 4 + 1,
    );
  });

  it('counts numbers as one byte per two significant digits plus one', () => {
    expect(numberSize(0)).toBe(2);
    expect(numberSize(7)).toBe(2);
    expect(numberSize(1767225600000)).toBe(5); // "176722560" less trailing zeros: 8 significant digits
    expect(numberSize(12345)).toBe(4);
    expect(numberSize(-1.25)).toBe(3);
    expect(numberSize(1790000000000000001n)).toBe(11);
    expect(numberSize(1e21)).toBe(2);
    expect(() => numberSize(Number.POSITIVE_INFINITY)).toThrow(ValidationError);
  });

  it('adds the overhead of lists and maps, and sums sets', () => {
    expect(valueSize([])).toBe(3);
    expect(valueSize(['ab', 'c'])).toBe(3 + 1 + 2 + 1 + 1);
    expect(valueSize({ a: 'xy' })).toBe(3 + 1 + 1 + 2);
    expect(valueSize(new Set(['ab', 'cde']))).toBe(5);
  });

  it('skips attributes whose value is undefined', () => {
    const item = { pk: 'a', note: undefined } as unknown as Parameters<typeof itemSizeBytes>[0];
    expect(itemSizeBytes(item)).toBe(3);
  });
});
