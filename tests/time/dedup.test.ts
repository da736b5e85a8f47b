/** Duplicate detection by (source, id), with memory bounded by event time. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupIndex, ENTRY_BYTES } from '../../src/time/dedup.js';
import { runs } from '../helpers/property-runs.js';

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

  it('answers as a plain set of (source, id) with per-minute expiry would, through growth, reuse and restore', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('event' as const), source: fc.constantFrom('/a', '/b', '/c', ''), id: fc.string({ maxLength: 4 }), minute: fc.nat(30) }),
      fc.record({ kind: fc.constant('prune' as const), minute: fc.nat(50) }),
      fc.record({ kind: fc.constant('restore' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 200, maxLength: 3000 }), (ops) => {
        let d = new DedupIndex(5 * MIN);
        const model = new Map<string, number>(); // joined key → minute start
        for (const o of ops) {
          if (o.kind === 'event') {
            const key = DedupIndex.key(o.source, o.id);
            expect(d.has(o.source, o.id)).toBe(model.has(key));
            if (!model.has(key)) {
              d.add(o.source, o.id, T + o.minute * MIN + 1_000);
              model.set(key, T + o.minute * MIN);
            }
          } else if (o.kind === 'prune') {
            const horizon = T + o.minute * MIN - 5 * MIN;
            d.prune(T + o.minute * MIN);
            for (const [k, m] of model) if (m + MIN <= horizon) model.delete(k);
          } else {
            const copy = new DedupIndex(5 * MIN);
            copy.restore(JSON.parse(JSON.stringify(d.snapshot())));
            d = copy;
          }
          expect(d.size).toBe(model.size);
        }
        for (const k of model.keys()) {
          const cut = k.indexOf('\u0000');
          expect(d.has(k.slice(0, cut), k.slice(cut + 1))).toBe(true);
        }
      }),
      { numRuns: runs(60) },
    );
  });

  it('holds tens of thousands of keys, and forgets exactly the old minutes among them', () => {
    const d = new DedupIndex(0);
    const n = 40_000;
    for (let i = 0; i < n; i++) d.add(i % 3 === 0 ? '/x' : '/y', `id-${i}`, T + (i % 2) * MIN);
    expect(d.size).toBe(n);
    for (let i = 0; i < n; i += 7) expect(d.has(i % 3 === 0 ? '/x' : '/y', `id-${i}`)).toBe(true);
    expect(d.has('/x', 'id-1')).toBe(false); // id-1 went to /y
    d.prune(T + MIN); // the first minute only: the even ids
    expect(d.size).toBe(n / 2);
    for (let i = 0; i < 2_000; i++) expect(d.has(i % 3 === 0 ? '/x' : '/y', `id-${i}`)).toBe(i % 2 === 1);
    for (let i = 0; i < n; i++) d.add('/z', `again-${i}`, T + 5 * MIN); // reuses the freed entries
    expect(d.size).toBe(n + n / 2);
    expect(d.has('/z', `again-${n - 1}`)).toBe(true);
    expect(d.has('/y', 'id-1')).toBe(true);
  });

  it('answers the same whatever its hash seed', () => {
    const seeded = new DedupIndex(MIN, 0x5eed);
    const plain = new DedupIndex(MIN);
    for (let i = 0; i < 5_000; i++) {
      const source = `/s${i % 5}`;
      const id = `e-${(i * 7919) % 3_000}`;
      expect(seeded.has(source, id)).toBe(plain.has(source, id));
      if (!plain.has(source, id)) {
        seeded.add(source, id, T + (i % 3) * MIN);
        plain.add(source, id, T + (i % 3) * MIN);
      }
    }
    seeded.prune(T + 3 * MIN);
    plain.prune(T + 3 * MIN);
    expect(seeded.size).toBe(plain.size);
    expect(seeded.snapshot()).toEqual(plain.snapshot());
  });
});

describe('DedupIndex size bound', () => {
  const bytesOf = (id: string) => ENTRY_BYTES + 2 * id.length;

  it('forgets the oldest minute first past its bound, raises the floor past it, and counts what it forgot', () => {
    const id = (i: number) => `e-${String(i).padStart(4, '0')}`; // 6 characters: 76 bytes each
    const d = new DedupIndex(60 * MIN, 0, 10 * bytesOf(id(0)));
    for (let i = 0; i < 10; i++) d.add('/s', id(i), T + Math.floor(i / 4) * MIN); // minutes 0,0,0,0,1,1,1,1,2,2
    expect([d.size, d.bytes, d.evicted, d.floor]).toEqual([10, 10 * bytesOf(id(0)), 0, Number.NEGATIVE_INFINITY]);
    d.add('/s', id(10), T + 2 * MIN);
    // Minute 0 went as a whole; events before minute 1 are refused from now on.
    expect([d.size, d.evicted, d.floor]).toEqual([7, 4, T + MIN]);
    expect(d.has('/s', id(0))).toBe(false);
    expect(d.has('/s', id(4))).toBe(true);
    expect(d.bytes).toBeLessThanOrEqual(10 * bytesOf(id(0)));
    // A flood within one minute forgets every older minute, then that minute itself.
    for (let i = 11; i < 30; i++) d.add('/s', id(i), T + 5 * MIN);
    expect(d.floor).toBe(T + 6 * MIN);
    expect(d.bytes).toBeLessThanOrEqual(10 * bytesOf(id(0)));
    expect(d.evicted + d.size).toBe(30);
  });

  it('answers as a plain set would, minus the minutes its bound forgot, and its snapshot keeps floor and count', () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('event' as const), source: fc.constantFrom('/a', '/b'), id: fc.string({ maxLength: 6 }), minute: fc.nat(20) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), minute: fc.nat(40) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 1500 }), fc.integer({ min: 1, max: 60 }), (ops, entries) => {
        const max = entries * (ENTRY_BYTES + 8);
        let d = new DedupIndex(5 * MIN, 0, max);
        const model = new Map<string, { minute: number; bytes: number }>();
        let floor = Number.NEGATIVE_INFINITY;
        let evicted = 0;
        const modelBytes = () => [...model.values()].reduce((n, v) => n + v.bytes, 0);
        for (const o of ops) {
          if (o.kind === 'event') {
            const key = DedupIndex.key(o.source, o.id);
            expect(d.has(o.source, o.id)).toBe(model.has(key));
            if (!model.has(key)) {
              d.add(o.source, o.id, T + o.minute * MIN + 1_000);
              model.set(key, { minute: T + o.minute * MIN, bytes: bytesOf(o.id) });
              while (modelBytes() > max) {
                const oldest = Math.min(...[...model.values()].map((v) => v.minute));
                for (const [k, v] of model) if (v.minute === oldest) (model.delete(k), evicted++);
                floor = Math.max(floor, oldest + MIN);
              }
            }
          } else if (o.kind === 'prune') {
            d.prune(T + o.minute * MIN);
            for (const [k, v] of model) if (v.minute + MIN <= T + o.minute * MIN - 5 * MIN) model.delete(k);
          } else {
            const copy = new DedupIndex(5 * MIN, 0, max);
            copy.restore(JSON.parse(JSON.stringify(d.snapshot())));
            d = copy;
          }
          expect([d.size, d.bytes, d.floor, d.evicted]).toEqual([model.size, modelBytes(), floor, evicted]);
        }
      }),
      { numRuns: runs(60) },
    );
  });
});
