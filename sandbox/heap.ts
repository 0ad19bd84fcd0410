/** A binary min-heap ordered by (at, seq): the world's agenda of future events, deterministic on ties. */
import { defined } from '../shared/domain/invariant.ts';

export interface Scheduled {
  at: number;
  seq: number;
}

export class EventHeap<T extends Scheduled> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    // Sift up with a hole: parents move down until `item` fits, then it is written once.
    let index = items.length;
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = defined(items[parent], 'the parent of a heap slot');
      if (!before(item, above)) break;
      items[index] = above;
      index = parent;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    // Sift `last` down from the root with a hole: the earlier child moves up until `last` fits.
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      let earlier = left;
      let child = defined(items[left], 'the left child of a heap slot');
      const right = items[left + 1];
      if (right !== undefined && before(right, child)) {
        earlier = left + 1;
        child = right;
      }
      if (!before(child, last)) break;
      items[index] = child;
      index = earlier;
    }
    items[index] = last;
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
