/** Event-time timers: earliest due first; equal deadlines fire in the order they were set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/time/timer-queue.js';
import '../helpers/property-runs.js';

function drain(q: TimerQueue): string[] {
  const out: string[] = [];
  for (let t = q.pop(); t !== undefined; t = q.pop()) out.push(`${t.due}:${t.kind}:${t.key}`);
  return out;
}

describe('TimerQueue', () => {
  it('pops by due time, and by insertion order among equal due times', () => {
    const q = new TimerQueue();
    q.schedule(300, 'decide', 'F1');
    q.schedule(100, 'evict', 'F2');
    q.schedule(300, 'parking', 'L1');
    q.schedule(200, 'decide', 'F3');
    q.schedule(300, 'silence', 'P1');
    expect(q.size).toBe(5);
    expect(q.peek()).toMatchObject({ due: 100, kind: 'evict', key: 'F2' });
    expect(drain(q)).toEqual(['100:evict:F2', '200:decide:F3', '300:decide:F1', '300:parking:L1', '300:silence:P1']);
    expect(q.pop()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });

  it('orders any sequence of deadlines as a stable sort would', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (dues) => {
        const q = new TimerQueue();
        dues.forEach((due, i) => q.schedule(due, 'k', String(i)));
        const expected = dues.map((due, i) => ({ due, i })).sort((a, b) => a.due - b.due || a.i - b.i).map(({ due, i }) => `${due}:k:${i}`);
        expect(drain(q)).toEqual(expected);
      }),
    );
  });

  it('keeps order and sequence numbers across a JSON round trip', () => {
    const q = new TimerQueue();
    q.schedule(5, 'a', '1');
    q.schedule(5, 'a', '2');
    q.schedule(1, 'a', '3');
    const copy = new TimerQueue();
    copy.restore(JSON.parse(JSON.stringify(q.snapshot())));
    // A timer set after the restore at an equal deadline still fires after the earlier ones.
    copy.schedule(5, 'a', '4');
    expect(drain(copy)).toEqual(['1:a:3', '5:a:1', '5:a:2', '5:a:4']);
  });
});
