/**
 * Event-time timers: deadlines that fire when the watermark passes them (absence, `for`
 * durations, incident decisions, evictions). A binary min-heap ordered by (due, seq)
 * so that timers due at the same instant fire in the order they were set, which keeps
 * the engine deterministic.
 *
 * Timers are never cancelled in place: owners re-check their own state when a timer
 * fires and ignore a stale one, which is cheaper than a decrease-key heap.
 */

export interface Timer {
  due: number;
  seq: number;
  kind: string;
  key: string;
}

export class TimerQueue {
  private heap: Timer[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  schedule(due: number, kind: string, key: string): void {
    const timer = { due, seq: this.nextSeq++, kind, key };
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest timer, without removing it. */
  peek(): Timer | undefined {
    return this.heap[0];
  }

  pop(): Timer | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < heap.length && less(heap[l]!, heap[smallest]!)) smallest = l;
        if (r < heap.length && less(heap[r]!, heap[smallest]!)) smallest = r;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }

  snapshot(): { nextSeq: number; timers: Timer[] } {
    return { nextSeq: this.nextSeq, timers: this.heap.map((t) => ({ ...t })) };
  }

  restore(s: { nextSeq: number; timers: Timer[] }): void {
    this.nextSeq = s.nextSeq;
    this.heap = s.timers.map((t) => ({ ...t }));
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
