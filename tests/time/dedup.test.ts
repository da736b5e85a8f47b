/** Duplicate detection by (source, id), with memory bounded by event time. */
import { describe, expect, it } from 'vitest';
import { DedupIndex } from '../../src/time/dedup.js';

const T = 1_784_592_000_000; // a minute boundary
const MIN = 60_000;

describe('DedupIndex', () => {
  it('identifies an event by source and id together', () => {
    const d = new DedupIndex(15 * MIN);
    d.add('/sensors/a', 'e-1', T);
    expect(d.has('/sensors/a', 'e-1')).toBe(true);
    expect(d.has('/sensors/b', 'e-1')).toBe(false);
    expect(d.has('/sensors/a', 'e-2')).toBe(false);
  });

  it('cannot be fooled by concatenation', () => {
    const d = new DedupIndex(15 * MIN);
    d.add('/a', 'b/c', T);
    d.add('ab', 'c', T);
    expect(d.has('/a/b', 'c')).toBe(false);
    expect(d.has('a', 'bc')).toBe(false);
    expect(DedupIndex.key('/a', 'b/c')).not.toBe(DedupIndex.key('/a/b', 'c'));
    expect(DedupIndex.key('ab', 'c')).not.toBe(DedupIndex.key('a', 'bc'));
  });

  it('restores a snapshot that lists a key twice as one key', () => {
    const d = new DedupIndex(15 * MIN);
    d.restore({ buckets: [[T, [DedupIndex.key('s', 'k')]], [T + MIN, [DedupIndex.key('s', 'k')]]] });
    expect(d.size).toBe(1);
    expect(d.has('s', 'k')).toBe(true);
    d.prune(T + 17 * MIN);
    expect(d.size).toBe(0);
    expect(d.has('s', 'k')).toBe(false);
  });

  it('forgets the keys of minutes wholly older than watermark − retention, and no others', () => {
    const d = new DedupIndex(15 * MIN);
    d.add('s', 'k-old', T + 10_000); // minute [T, T+1m)
    d.add('s', 'k-next', T + MIN); // minute [T+1m, T+2m)
    d.add('other', 'k-old', T + MIN);
    expect(d.size).toBe(3);
    d.prune(T + 16 * MIN - 1); // horizon T+1m−1ms: minute T not yet wholly older
    expect(d.size).toBe(3);
    d.prune(T + 16 * MIN); // horizon T+1m
    expect(d.has('s', 'k-old')).toBe(false);
    expect(d.has('s', 'k-next')).toBe(true);
    expect(d.has('other', 'k-old')).toBe(true);
    expect(d.size).toBe(2);
    d.prune(T + 17 * MIN);
    expect(d.size).toBe(0);
    expect(d.has('s', 'k-next')).toBe(false);
  });

  it('prune with no watermark yet keeps everything', () => {
    const d = new DedupIndex(0);
    d.add('s', 'k', T);
    d.prune(Number.NEGATIVE_INFINITY);
    expect(d.has('s', 'k')).toBe(true);
  });

  it('survives a JSON round trip of its snapshot, in the joined-key format earlier snapshots have', () => {
    const d = new DedupIndex(MIN);
    d.add('/s', 'a', T);
    d.add('/s', 'b', T + MIN);
    const snapshot = JSON.parse(JSON.stringify(d.snapshot()));
    expect(snapshot.buckets).toEqual([
      [T, [DedupIndex.key('/s', 'a')]],
      [T + MIN, [DedupIndex.key('/s', 'b')]],
    ]);
    const copy = new DedupIndex(MIN);
    copy.restore(snapshot);
    expect(copy.size).toBe(2);
    expect(copy.has('/s', 'a')).toBe(true);
    copy.prune(T + 2 * MIN);
    expect(copy.has('/s', 'a')).toBe(false);
    expect(copy.has('/s', 'b')).toBe(true);
  });
});
