/**
 * A partial's group tags are stored as one tag key (the embedded store's segments, the
 * outbox that feeds InfluxDB, the query's groups). The encoding is injective: no value can
 * end its part early and smuggle a tag into another group (issue 9's spoofed district),
 * and keys of ordinary tags are written exactly as before, so existing data files read alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waterloggingPointsOverThreshold } from '../../src/kpis/waterlogging.js';
import { evaluateKpi, type PartialRow } from '../../src/kpis/query.js';
import { tagKeyOf, tagsFromKey } from '../../src/kpis/partials.js';
import { rowsFromSegments, toSegments } from '../../src/sqlite/kpi-segments.js';
import { runs } from '../helpers/property-runs.js';

const SPOOF = { district: 'DISTRICT-A', point: 'WL-X\u0001district\u0002DISTRICT-B' };

/** Text rich in the separators and their neighbours. */
const tagText = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.array(fc.constantFrom('\u0001', '\u0002', '\u0003', 'a', 'district', '=', ',', ' ', '\\', '回'), { maxLength: 6 }).map((a) => a.join('')),
);
const tags = fc.dictionary(fc.constantFrom('district', 'point', 'station', 'lot', 'network', 'category'), tagText, { maxKeys: 4 });

describe('tag keys', () => {
  it('decode to the tags they were made of, whatever the values hold (so no two tag sets share a key)', () => {
    fc.assert(
      fc.property(tags, tags, (a, b) => {
        expect(tagsFromKey(tagKeyOf(a))).toEqual(a);
        if (tagKeyOf(a) === tagKeyOf(b)) expect(a).toEqual(b);
      }),
      { numRuns: runs(3000) },
    );
  });

  it('keep a smuggled separator inside the value it came in', () => {
    expect(tagsFromKey(tagKeyOf(SPOOF))).toEqual(SPOOF);
    expect(tagKeyOf(SPOOF)).not.toBe(tagKeyOf({ district: 'DISTRICT-A', point: 'WL-X', district2: 'x' }));
  });

  it('are written as before for ordinary tags, so existing data files read the same', () => {
    expect(tagKeyOf({ station: '回龙观消防站', district: '回龙观街道' })).toBe('district\u0002回龙观街道\u0001station\u0002回龙观消防站');
    expect(tagsFromKey('district\u0002回龙观街道\u0001point\u0002HLG-001')).toEqual({ district: '回龙观街道', point: 'HLG-001' });
    expect(tagsFromKey('category\u0002')).toEqual({ category: '' });
    expect(tagsFromKey('')).toEqual({});
  });

  it('a spoofed point stays in its own district in the store and in groupBy=district', () => {
    const T = Date.UTC(2026, 6, 21);
    const fields = { depth_cm: 30, max_depth_cm: 30, over_threshold: 1, points: 1 };
    const partials = [
      { family: 'waterlogging', bucket: T, tags: SPOOF, tagKey: tagKeyOf(SPOOF), fields },
      { family: 'waterlogging', bucket: T, tags: { district: 'DISTRICT-B', point: 'WL-B' }, tagKey: tagKeyOf({ district: 'DISTRICT-B', point: 'WL-B' }), fields },
    ];
    const rows: PartialRow[] = rowsFromSegments('waterlogging', T, 'bucket-and-tags', toSegments(partials));
    expect(rows.map((r) => r.tags)).toEqual(expect.arrayContaining([SPOOF]));
    const result = evaluateKpi(waterloggingPointsOverThreshold, rows, T, T + 60_000, ['district']);
    expect(result.groups?.map((g) => [g.key.district, g.value])).toEqual([
      ['DISTRICT-A', 1],
      ['DISTRICT-B', 1],
    ]);
  });
});
