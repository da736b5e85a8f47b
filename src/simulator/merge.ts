/**
 * k-way merge of per-entity event streams by event time.
 *
 * Every sensor, lot, line and the incident process is its own generator yielding
 * events in time order; the merge keeps one head per generator in a binary heap, so a
 * stream of millions of events is produced with memory proportional to the number of
 * entities, never to the number of events. Ties are broken by the generator's position
 * in the input list, which makes the order — and so the bytes — deterministic.
 */
import type { SimEvent } from './sim-event.js';

interface Head {
  /** The head event's time, kept beside it: the comparison is the merge's inner loop. */
  time: number;
  event: SimEvent;
  index: number;
  source: Iterator<SimEvent>;
}

function before(a: Head, b: Head): boolean {
  return a.time < b.time || (a.time === b.time && a.index < b.index);
}

export function* mergeByTime(sources: ReadonlyArray<Iterable<SimEvent>>): Generator<SimEvent> {
  const heap: Head[] = [];
  const push = (h: Head) => {
    heap.push(h);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(h, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = h;
  };
  /** Moves the root down to its place (a hole moves down; the root is written once). */
  const siftDown = () => {
    const n = heap.length;
    const h = heap[0]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!before(child, h)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = h;
  };
  sources.forEach((s, index) => {
    const source = s[Symbol.iterator]();
    const first = source.next();
    if (!first.done) push({ time: first.value.time, event: first.value, index, source });
  });
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.event;
    const next = top.source.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown();
      }
    } else {
      // Reuse the head: replace its event and restore the heap order from the root.
      top.event = next.value;
      top.time = next.value.time;
      siftDown();
    }
  }
}
