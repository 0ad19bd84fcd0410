import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FollowList } from '../../sandbox/follow-list.ts';

type Op = { kind: 'push'; swap: boolean } | { kind: 'remove'; pick: number };

const ops = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), swap: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  ),
  { maxLength: 400 },
);

/** Applies the ops to a FollowList and to a plain newest-first array model. */
function build(list: FollowList, sequence: Op[]): number[] {
  const model: number[] = [];
  let displaced: number | undefined;
  let next = 0;
  for (const op of sequence) {
    if (op.kind === 'push') {
      const ordinal = next++;
      list.push(ordinal, ordinal * 1000, op.swap);
      if (op.swap && model.length > 0 && model[0] !== displaced) {
        displaced = model[0];
        model.splice(1, 0, ordinal);
      } else model.unshift(ordinal);
    } else if (model.length > 0) {
      const ordinal = model[op.pick % model.length]!;
      list.remove(ordinal);
      model.splice(model.indexOf(ordinal), 1);
    }
  }
  return model;
}

describe('FollowList', () => {
  it('lists what was pushed and not removed, in model order, through any page size', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 50 }), (sequence, limit) => {
        // Prepare
        const list = new FollowList();
        const model = build(list, sequence);

        // Act
        const seen: number[] = [];
        let below: number | undefined;
        for (let guard = 0; guard < 1000; guard++) {
          const page = list.page({ limit, below });
          seen.push(...page.entries.map((entry) => entry.ordinal));
          if (!page.moreBelow) break;
          below = page.entries[page.entries.length - 1]!.key;
        }

        // Assess
        expect(seen).toEqual(model);
        expect(list.size).toBe(model.length);
        expect(list.all().map((entry) => entry.ordinal)).toEqual(model);
      }),
    );
  });

  it('pages back up with previous cursors to the same entries', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 20 }), (sequence, limit) => {
        // Prepare
        const list = new FollowList();
        const model = build(list, sequence);
        const bottomKey = list.all().at(-1)?.key;
        fc.pre(bottomKey !== undefined);

        // Act: start from the oldest entry and walk up.
        const seen: number[] = [model[model.length - 1]!];
        let above = bottomKey!;
        for (let guard = 0; guard < 1000; guard++) {
          const page = list.page({ limit, above });
          seen.unshift(...page.entries.map((entry) => entry.ordinal));
          if (!page.moreAbove) break;
          above = page.entries[0]!.key;
        }

        // Assess
        expect(seen).toEqual(model);
      }),
    );
  });

  it('keeps cursors valid across removals and compaction', () => {
    // Prepare
    const list = new FollowList();
    for (let ordinal = 0; ordinal < 1000; ordinal++) list.push(ordinal, ordinal);
    const first = list.page({ limit: 100 });
    const cursor = first.entries.at(-1)!.key;

    // Act: remove most of the list (forces compaction), keeping every tenth entry.
    for (let ordinal = 0; ordinal < 1000; ordinal++) if (ordinal % 10 !== 0) list.remove(ordinal);
    const next = list.page({ limit: 5, below: cursor });

    // Assess: continues just below the cursor (ordinal 900 was the last on the first page).
    expect(next.entries.map((entry) => entry.ordinal)).toEqual([890, 880, 870, 860, 850]);
    expect(next.moreBelow).toBe(true);
    expect(next.moreAbove).toBe(true);
  });

  it('samples only live entries, within the newest window when asked', () => {
    // Prepare
    const list = new FollowList();
    for (let ordinal = 0; ordinal < 100; ordinal++) list.push(ordinal, ordinal);
    for (let ordinal = 90; ordinal < 100; ordinal += 2) list.remove(ordinal);
    let n = 0;
    const draw = (span: number) => n++ % span;

    // Act
    const recent = Array.from({ length: 50 }, () => list.sample(draw, 10));

    // Assess
    for (const ordinal of recent) {
      expect(ordinal).toBeGreaterThanOrEqual(90);
      expect(ordinal! % 2).toBe(1);
    }
  });
});

describe('FollowList: a newcomer listed below the top', () => {
  it('sits exactly `depth` places below the top, the others in their order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ depth: fc.nat({ max: 12 }), remove: fc.option(fc.nat(), { nil: undefined }) }), {
          maxLength: 200,
        }),
        (steps) => {
          // Prepare
          const list = new FollowList();
          const model: number[] = [];

          // Act
          steps.forEach((step, ordinal) => {
            list.insertBelowTop(ordinal, ordinal * 1000, step.depth);
            model.splice(Math.min(step.depth, model.length), 0, ordinal);
            if (step.remove !== undefined && model.length > 0) {
              const gone = model[step.remove % model.length]!;
              list.remove(gone);
              model.splice(model.indexOf(gone), 1);
            }
          });

          // Assess
          expect(list.all().map((entry) => entry.ordinal)).toEqual(model);
          for (const ordinal of model) expect(list.followedAt(ordinal)).toBe(ordinal * 1000);
        },
      ),
    );
  });
});
