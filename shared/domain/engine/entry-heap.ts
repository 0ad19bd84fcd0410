/**
 * The dispatcher's entries and the min-heap of its late and backfill lanes (dispatcher.ts).
 */

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
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (byDeadline(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): Entry<T> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && byDeadline(items[l]!, items[m]!) < 0) m = l;
        if (r < items.length && byDeadline(items[r]!, items[m]!) < 0) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
  sorted(): Entry<T>[] {
    return [...this.items].sort(byDeadline);
  }
}
