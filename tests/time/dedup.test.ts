/** Duplicate detection by (source, id), with memory bounded by event time. */
import { describe, expect, it } from 'vitest';
import { DedupIndex } from '../../src/time/dedup.js';

const T = 1_784_592_000_000; // a minute boundary
const MIN = 60_000;

describe('DedupIndex', () => {
  it('identifies an event by source and id together', () => {
    const d = new DedupIndex(15 * MIN);
    d.add(DedupIndex.key('/sensors/a', 'e-1'), T);
    expect(d.has(DedupIndex.key('/sensors/a', 'e-1'))).toBe(true);
    expect(d.has(DedupIndex.key('/sensors/b', 'e-1'))).toBe(false);
    expect(d.has(DedupIndex.key('/sensors/a', 'e-2'))).toBe(false);
  });

  it('keys cannot collide by concatenation', () => {
    expect(DedupIndex.key('/a', 'b/c')).not.toBe(DedupIndex.key('/a/b', 'c'));
    expect(DedupIndex.key('ab', 'c')).not.toBe(DedupIndex.key('a', 'bc'));
  });

  it('forgets the keys of minutes wholly older than watermark − retention, and no others', () => {
    const d = new DedupIndex(15 * MIN);
    d.add('k-old', T + 10_000); // minute [T, T+1m)
    d.add('k-next', T + MIN); // minute [T+1m, T+2m)
    expect(d.size).toBe(2);
    d.prune(T + 16 * MIN - 1); // horizon T+1m−1ms: minute T not yet wholly older
    expect(d.size).toBe(2);
    d.prune(T + 16 * MIN); // horizon T+1m
    expect(d.has('k-old')).toBe(false);
    expect(d.has('k-next')).toBe(true);
    expect(d.size).toBe(1);
    d.prune(T + 17 * MIN);
    expect(d.size).toBe(0);
  });

  it('prune with no watermark yet keeps everything', () => {
    const d = new DedupIndex(0);
    d.add('k', T);
    d.prune(Number.NEGATIVE_INFINITY);
    expect(d.has('k')).toBe(true);
  });

  it('survives a JSON round trip of its snapshot', () => {
    const d = new DedupIndex(MIN);
    d.add('a', T);
    d.add('b', T + MIN);
    const copy = new DedupIndex(MIN);
    copy.restore(JSON.parse(JSON.stringify(d.snapshot())));
    expect(copy.size).toBe(2);
    expect(copy.has('a')).toBe(true);
    copy.prune(T + 2 * MIN);
    expect(copy.has('a')).toBe(false);
    expect(copy.has('b')).toBe(true);
  });
});
