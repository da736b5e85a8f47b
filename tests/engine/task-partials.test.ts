/**
 * A cluster task's partial table (docs/cluster.md §3): what it hands to the sinks is the
 * absolute value of each key, accumulated delta by delta, so a restored task that re-reads
 * its partition rewrites exactly what the previous owner wrote.
 */
import { describe, expect, it } from 'vitest';
import { FINAL_FAMILIES, horizonOf, TaskPartials } from '../../src/engine/task-partials.js';
import { seriesOf } from '../../src/kpis/partials.js';

const MIN = 60_000;
const T0 = Date.parse('2026-07-21T00:00:00Z');
const station = { district: '回龙观街道', station: '回龙观消防站' };

describe('TaskPartials', () => {
  it('hands out absolute values of the keys touched since the last drain', () => {
    const t = new TaskPartials();
    t.add('fire_response', T0, station, { covered: 1, rt_sum: 100, rt_count: 1 });
    t.add('fire_response', T0 + MIN, station, { missed: 1 });
    expect(t.drain()).toEqual([
      { family: 'fire_response', bucket: T0, tags: station, tagKey: seriesOf('fire_response', station).tagKey, fields: { covered: 1, rt_sum: 100, rt_count: 1 } },
      { family: 'fire_response', bucket: T0 + MIN, tags: station, tagKey: seriesOf('fire_response', station).tagKey, fields: { missed: 1 } },
    ]);
    expect(t.drain()).toEqual([]);
    t.add('fire_response', T0, station, { covered: 1, rt_sum: 50, rt_count: 1 });
    expect(t.drain().map((p) => p.fields)).toEqual([{ covered: 2, rt_sum: 150, rt_count: 2 }]);
  });

  it('adds delta by delta, so floating-point sums do not depend on where the drains fall', () => {
    const deltas = [0.1, 0.2, 0.3, 1e-17, 7.7, 1e16, -1e16, 0.3];
    const runs = [[], [2], [1, 3, 5], [0, 1, 2, 3, 4, 5, 6, 7]].map((drainsAfter) => {
      const t = new TaskPartials();
      let last: number | undefined;
      deltas.forEach((d, i) => {
        t.add('fire_response', T0, station, { rt_sum: d });
        if (drainsAfter.includes(i)) last = t.drain()[0]!.fields.rt_sum;
      });
      const out = t.drain();
      return out.length > 0 ? out[0]!.fields.rt_sum : last;
    });
    for (const r of runs) expect(Object.is(r, runs[0])).toBe(true);
  });

  it('keeps no gauge key: a sampled minute is final when written', () => {
    // The gauges and their per-minute rollups (kpis/gauge-rollups.ts), written in the same step.
    expect([...FINAL_FAMILIES].sort()).toEqual([
      'parking',
      'parking_all',
      'parking_by_district',
      'utility_alarms',
      'utility_alarms_all',
      'utility_alarms_by_district',
      'utility_alarms_by_network',
      'waterlogging',
      'waterlogging_all',
      'waterlogging_by_district',
    ]);
    const t = new TaskPartials();
    const series = seriesOf('waterlogging', { district: '回龙观街道', pointId: 'HLG-001' });
    t.addSample(series, T0, { depth_sum: 18.5, depth_count: 1 });
    t.add('waterlogging_by_district', T0, { district: '回龙观街道' }, { points: 1, rollup_series: 1 });
    // The keyed partials first, then the samples (which need no key).
    expect(t.drain().map((p) => p.fields)).toEqual([{ points: 1, rollup_series: 1 }, { depth_sum: 18.5, depth_count: 1 }]);
    expect(t.tableSize).toBe(0);
    expect(t.snapshot().entries).toEqual([]);
  });

  it('forgets keys past their horizon and counts a touch of a forgotten key (which would be a bug)', () => {
    const t = new TaskPartials();
    t.add('fire_response', T0, station, { covered: 1 });
    t.add('alert_ack', T0, { category: 'flood' }, { ack_seconds_sum: 30, ack_count: 1 });
    t.drain();
    // Past alert_ack's horizon (10 min), within fire_response's (24 h + 10 min).
    t.evict(T0 + horizonOf('alert_ack') + MIN);
    expect(t.tableSize).toBe(1);
    t.add('fire_response', T0, station, { missed: 1 });
    expect(t.drain().map((p) => p.fields)).toEqual([{ covered: 1, missed: 1 }]);
    expect(t.retouched).toBe(0);
    t.evict(T0 + horizonOf('fire_response') + MIN);
    expect(t.tableSize).toBe(0);
    t.add('fire_response', T0, station, { unresolved: 1 });
    expect(t.retouched).toBe(1);
  });

  it('restores from its snapshot to the same absolute values', () => {
    const a = new TaskPartials();
    a.add('fire_response', T0, station, { covered: 3, rt_sum: 0.1 });
    a.add('alert_ack', T0 + MIN, { category: 'flood' }, { ack_seconds_sum: 12, ack_count: 1 });
    a.drain();
    a.evict(T0 + horizonOf('alert_ack') + 2 * MIN);
    const b = new TaskPartials();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (const t of [a, b]) {
      t.add('fire_response', T0, station, { covered: 1, rt_sum: 0.2 });
      t.add('alert_ack', T0 + MIN, { category: 'flood' }, { ack_seconds_sum: 1, ack_count: 1 });
    }
    expect(b.drain()).toEqual(a.drain());
    expect(b.retouched).toBe(a.retouched);
    expect(a.retouched).toBe(1);
  });
});
