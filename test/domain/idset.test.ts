import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  applyDelta,
  diffSorted,
  formatId,
  formatIds,
  has,
  IdSet,
  isSortedUnique,
  parseId,
  parseIds,
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

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseIds', () => {
  it('keeps ids beyond 2^53 exact', () => {
    // Prepare
    const strings = ['1790000000000000001', '9007199254740993', '12', '18446744073709551615', '0'];

    // Act
    const ids = parseIds(strings);

    // Assess
    expect([...ids]).toEqual([1790000000000000001n, 9007199254740993n, 12n, 18446744073709551615n, 0n]);
  });

  it('agrees with BigInt on any canonical decimal id', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: 50 }), (ids) => {
        // Prepare
        const strings = ids.map((id) => id.toString());

        // Act
        const parsed = parseIds(strings);

        // Assess
        expect([...parsed]).toEqual(ids);
      }),
    );
  });

  it('parses every length of decimal string like BigInt, refusing what is 2^64 or more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc
          .integer({ min: 0, max: 19 })
          .chain((length) =>
            fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }),
          ),
        (first, rest) => {
          // Prepare
          const text = [first, ...rest].join('');
          const value = BigInt(text);

          // Act / Assess
          if (value <= MAX_ID) expect(parseIds([text])[0]).toBe(value);
          else expect(() => parseIds([text])).toThrow(ValidationError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['', 'is empty'],
    ['-1', 'is not a decimal id'],
    ['1.5', 'is not a decimal id'],
    ['18446744073709551616', 'is not below 2^64'],
    ['99999999999999999999', 'is not below 2^64'],
    ['123456789012345678901', 'is not a decimal id below 2^64'],
    [' 12', 'is not a decimal id'],
    ['12 ', 'is not a decimal id'],
    ['+12', 'is not a decimal id'],
    ['1e5', 'is not a decimal id'],
    ['0012', 'has a leading zero'],
    ['17900000000000000a1', 'is not a decimal id'],
  ])('refuses %j, naming its index and value', (bad, why) => {
    // Prepare
    const strings = ['1', '1790000000000000001', bad];

    // Act
    const error = caught(() => parseIds(strings));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(`ids[2] ${why}`);
    expect((error as ValidationError).message).toContain(JSON.stringify(bad));
    expect((error as ValidationError).details).toEqual({ index: 2, value: bad });
  });

  it('refuses a value that is not a string', () => {
    // Act
    const error = caught(() => parseIds([12 as unknown as string]));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain('ids[0] is not a string');
  });

  it('parses a single id with parseId', () => {
    expect(parseId('1790000000000000001')).toBe(1790000000000000001n);
  });
});

describe('formatId and formatIds', () => {
  it('round trips through parseIds', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: 50 }), (ids) => {
        // Prepare
        const array = BigUint64Array.from(ids);

        // Act
        const strings = formatIds(array);

        // Assess
        expect(strings).toEqual(ids.map((id) => id.toString()));
        expect([...parseIds(strings)]).toEqual(ids);
      }),
    );
  });

  it('formats one id, and refuses values outside 64 unsigned bits', () => {
    expect(formatId(1790000000000000001n)).toBe('1790000000000000001');
    expect(formatId(0n)).toBe('0');
    expect(() => formatId(-1n)).toThrow(ValidationError);
    expect(() => formatId(2n ** 64n)).toThrow(ValidationError);
  });
});

describe('sortUnique', () => {
  it('sorts and removes duplicates, keeping exactly the input ids', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: 200 }), (ids) => {
        // Prepare
        const input = BigUint64Array.from([...ids, ...ids.slice(0, 10)]);
        const expected = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

        // Act
        const sorted = sortUnique(input);

        // Assess
        expect([...sorted]).toEqual(expected);
        expect(isSortedUnique(sorted)).toBe(true);
      }),
    );
  });

  it('is idempotent and leaves its input alone', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: 100 }), (ids) => {
        // Prepare
        const input = BigUint64Array.from(ids);
        const before = [...input];

        // Act
        const once = sortUnique(input);
        const twice = sortUnique(once);

        // Assess
        expect([...twice]).toEqual([...once]);
        expect([...input]).toEqual(before);
      }),
    );
  });
});

describe('diffSorted and applyDelta', () => {
  it('finds exactly the ids added and removed', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, (prev, next) => {
        // Prepare
        const prevSet = new Set(prev);
        const nextSet = new Set(next);

        // Act
        const { added, removed } = diffSorted(prev, next);

        // Assess
        expect([...added]).toEqual([...next].filter((id) => !prevSet.has(id)));
        expect([...removed]).toEqual([...prev].filter((id) => !nextSet.has(id)));
      }),
    );
  });

  it('applying the diff to the previous set gives the next set', () => {
    fc.assert(
      fc.property(idSetArb, idSetArb, (prev, next) => {
        // Act
        const { added, removed } = diffSorted(prev, next);
        const rebuilt = applyDelta(prev, added, removed);

        // Assess
        expect([...rebuilt]).toEqual([...next]);
      }),
    );
  });

  it('finds nothing between identical sets', () => {
    fc.assert(
      fc.property(idSetArb, (ids) => {
        // Act
        const { added, removed } = diffSorted(ids, ids.slice());

        // Assess
        expect(added.length).toBe(0);
        expect(removed.length).toBe(0);
      }),
    );
  });

  it('refuses input that is not sorted and duplicate-free', () => {
    // Prepare
    const sorted = BigUint64Array.of(1n, 2n, 3n);
    const unsorted = BigUint64Array.of(1n, 3n, 2n);
    const duplicated = BigUint64Array.of(1n, 2n, 2n);

    // Act / Assess
    expect(() => diffSorted(unsorted, sorted)).toThrow(/prev is not sorted/);
    expect(() => diffSorted(sorted, duplicated)).toThrow(/next is not sorted/);
    expect(() => applyDelta(sorted, unsorted, new BigUint64Array(0))).toThrow(ValidationError);
  });

  it('refuses to remove an id the base does not hold', () => {
    // Prepare
    const base = BigUint64Array.of(10n, 20n, 30n);

    // Act
    const beforeAll = caught(() => applyDelta(base, new BigUint64Array(0), BigUint64Array.of(5n)));
    const between = caught(() => applyDelta(base, new BigUint64Array(0), BigUint64Array.of(25n)));
    const afterAll = caught(() => applyDelta(base, new BigUint64Array(0), BigUint64Array.of(31n)));

    // Assess
    expect(beforeAll).toBeInstanceOf(ValidationError);
    expect(String(beforeAll)).toContain('removed id 5 is not in the base');
    expect(String(between)).toContain('removed id 25 is not in the base');
    expect(String(afterAll)).toContain('removed id 31 is not in the base');
  });

  it('refuses to add an id the base already holds', () => {
    // Prepare
    const base = BigUint64Array.of(10n, 20n, 30n);

    // Act
    const error = caught(() => applyDelta(base, BigUint64Array.of(15n, 20n), new BigUint64Array(0)));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(String(error)).toContain('added id 20 is already in the base');
  });

  it('refuses a delta that adds and removes the same id', () => {
    // Prepare
    const base = BigUint64Array.of(10n, 20n);

    // Act / Assess
    expect(() => applyDelta(base, BigUint64Array.of(20n), BigUint64Array.of(20n))).toThrow(ValidationError);
    expect(() => applyDelta(base, BigUint64Array.of(15n), BigUint64Array.of(15n))).toThrow(ValidationError);
  });
});

describe('membership', () => {
  it('has finds exactly the members of a sorted set', () => {
    fc.assert(
      fc.property(idSetArb, idArb, (ids, probe) => {
        // Prepare
        const members = new Set(ids);

        // Act / Assess
        expect(has(ids, probe)).toBe(members.has(probe));
        for (const id of ids.subarray(0, 5)) expect(has(ids, id)).toBe(true);
      }),
    );
  });

  it('IdSet answers by decimal string or bigint and diffs against an older set', () => {
    // Prepare
    const before = IdSet.fromStrings(['1790000000000000001', '12', '12']);
    const after = IdSet.fromStrings(['12', '1790000000000000002']);

    // Act
    const delta = after.diffFrom(before);

    // Assess
    expect(before.size).toBe(2);
    expect(before.has('1790000000000000001')).toBe(true);
    expect(before.has('1790000000000000002')).toBe(false);
    expect(before.has(12n)).toBe(true);
    expect([...delta.added]).toEqual([1790000000000000002n]);
    expect([...delta.removed]).toEqual([1790000000000000001n]);
    expect(after.toStrings()).toEqual(['12', '1790000000000000002']);
    expect(() => before.has('-1')).toThrow(ValidationError);
    expect(() => IdSet.fromSorted(BigUint64Array.of(2n, 1n))).toThrow(ValidationError);
    expect(IdSet.empty.size).toBe(0);
  });
});
