/**
 * The step buffer merges deltas per (family, bucket, tags) and drains them in the order
 * first added, whatever order buckets come in and however series objects are made —
 * checked against the plain definition: a map keyed by all three, in insertion order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeFields, PartialBuffer, seriesOf, tagKeyOf, type PartialDelta, type Series } from '../../src/kpis/partials.js';
import { runs } from '../helpers/property-runs.js';

type Op =
  | { kind: 'add' | 'addTo'; family: string; point: string; bucket: number; fields: Record<string, number> }
  | { kind: 'drain' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('add' as const, 'addTo' as const),
      family: fc.constantFrom('waterlogging', 'parking'),
      point: fc.constantFrom('P1', 'P2', 'P3'),
      bucket: fc.integer({ min: 0, max: 6 }).map((m) => m * 60_000),
      fields: fc.dictionary(fc.constantFrom('points', 'max_depth_cm', 'depth_cm'), fc.integer({ min: -5, max: 50 }), { minKeys: 1, maxKeys: 3 }),
    }),
    weight: 12,
  },
  { arbitrary: fc.constant({ kind: 'drain' as const }), weight: 1 },
);

describe('PartialBuffer', () => {
  it('merges per (family, bucket, tags) and drains in first-added order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const buffer = new PartialBuffer();
        const cached = new Map<string, Series>();
        let reference = new Map<string, PartialDelta>();
        for (const o of [...ops, { kind: 'drain' as const }]) {
          if (o.kind === 'drain') {
            expect(buffer.drain()).toEqual([...reference.values()]);
            reference = new Map();
            continue;
          }
          const tags = { district: 'd', point: o.point };
          if (o.kind === 'add') {
            buffer.add(o.family, o.bucket, tags, o.fields);
          } else {
            const id = `${o.family}/${o.point}`;
            if (!cached.has(id)) cached.set(id, seriesOf(o.family, tags));
            buffer.addTo(cached.get(id)!, o.bucket, { ...o.fields });
          }
          const key = `${o.family}|${o.bucket}|${tagKeyOf(tags)}`;
          const held = reference.get(key);
          if (held === undefined) reference.set(key, { family: o.family, bucket: o.bucket, tags, tagKey: tagKeyOf(tags), fields: { ...o.fields } });
          else mergeFields(held.fields, o.fields);
        }
      }),
      { numRuns: runs(500) },
    );
  });
});
