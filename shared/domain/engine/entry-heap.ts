/**
 * The dispatcher's entries and the min-heap of its late and backfill lanes (dispatcher.ts).
 */
import { defined } from '../invariant.ts';

export interface Entry<T> {
  task: T;
  seq: number;
  release: number;
  deadline: number;
  backfill: boolean;
  /** Index in the deadline-sorted list of promised tasks (-1 for backfill). */
  dIndex: number;
  /** Still counted in D (promised, not served, not late). */
  inD: boolean;
  released: boolean;
}

export function byDeadline<T>(a: Entry<T>, b: Entry<T>): number {
  return a.deadline - b.deadline || a.release - b.release || a.seq - b.seq;
}

/** A binary min-heap by deadline (then release, then input order). */
export class EntryHeap<T> {
  private items: Entry<T>[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Entry<T> | undefined {
    return this.items[0];
  }
  push(item: Entry<T>): void {
    const items = this.items;
    // Sift up with a hole: parents move down until `item` fits, then it is written once.
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = defined(items[parent], 'the parent of a heap slot');
      if (byDeadline(item, above) >= 0) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }
  pop(): Entry<T> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (last === undefined || items.length === 0) return top;
    // Sift `last` down from the root with a hole: the smaller child moves up until `last` fits.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      let m = l;
      let child = defined(items[l], 'the left child of a heap slot');
      if (l + 1 < items.length) {
        const right = defined(items[l + 1], 'the right child of a heap slot');
        if (byDeadline(right, child) < 0) {
          m = l + 1;
          child = right;
        }
      }
      if (byDeadline(child, last) >= 0) break;
      items[i] = child;
      i = m;
    }
    items[i] = last;
    return top;
  }
  sorted(): Entry<T>[] {
    return [...this.items].sort(byDeadline);
  }
}
