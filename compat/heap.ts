// A binary min-heap on priority tuples (Dask's (-user priority, generation, submission order)).
export type Priority = readonly number[];

export function comparePriority(a: Priority, b: Priority): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export class PriorityHeap<T extends { prio: Priority }> {
  private readonly items: T[] = [];
  get size(): number { return this.items.length; }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (comparePriority(a[p].prio, x.prio) <= 0) break;
      a[i] = a[p]; i = p;
    }
    a[i] = x;
  }

  peek(): T | undefined { return this.items[0]; }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && comparePriority(a[l + 1].prio, a[l].prio) < 0 ? l + 1 : l;
        if (comparePriority(a[c].prio, last.prio) >= 0) break;
        a[i] = a[c]; i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
