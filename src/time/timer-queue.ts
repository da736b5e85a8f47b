/**
 * Event-time timers: deadlines that fire when the watermark passes them (absence, `for`
 * durations, incident decisions, evictions). A binary min-heap ordered by (due, seq)
 * so that timers due at the same instant fire in the order they were set, which keeps
 * the engine deterministic.
 *
 * Timers are never cancelled in place: owners re-check their own state when a timer
 * fires and ignore a stale one, which is cheaper than a decrease-key heap.
 */

import { MinHeap } from './min-heap.js';

export interface Timer {
  due: number;
  seq: number;
  kind: string;
  key: string;
}

export class TimerQueue {
  private readonly heap = new MinHeap<Timer>(less);
  private nextSeq = 0;

  get size(): number {
    return this.heap.size;
  }

  schedule(due: number, kind: string, key: string): void {
    this.heap.push({ due, seq: this.nextSeq++, kind, key });
  }

  /** The earliest timer, without removing it. */
  peek(): Timer | undefined {
    return this.heap.peek();
  }

  pop(): Timer | undefined {
    return this.heap.pop();
  }

  snapshot(): { nextSeq: number; timers: Timer[] } {
    return { nextSeq: this.nextSeq, timers: this.heap.toArray().map((t) => ({ ...t })) };
  }

  restore(s: { nextSeq: number; timers: Timer[] }): void {
    this.nextSeq = s.nextSeq;
    this.heap.replaceAll(s.timers.map((t) => ({ ...t })));
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
