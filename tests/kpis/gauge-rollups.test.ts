/**
 * Gauge rollups and per-series aggregates (src/kpis/gauge-rollups.ts) give the same answers
 * as every minute partial merged per minute — checked against the plain definition
 * (evaluateKpi over the raw rows) for several writers, sparse minutes, entities that move
 * district or are written by two writers, any range and every grouping a store answers
 * from them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import {
  entityGrouping,
  GAUGE_FAMILIES,
  MinuteRollup,
  ROLLUP_SERIES_FIELD,
  rollupFamily,
  rollupFor,
  splitEntityGroups,
  summaryOfAggregate,
  type SeriesAggregate,
  type StoredSeriesAggregate,
} from '../../src/kpis/gauge-rollups.js';
import type { GaugeKpi } from '../../src/kpis/kpi-definition.js';
import { mergeFields, PartialBuffer, tagKeyOf, type Fields } from '../../src/kpis/partials.js';
import { evaluateGaugeParts, evaluateKpi, fixedPoint, GAUGE_MEAN_SCALE, summariseGauge, type PartialRow } from '../../src/kpis/query.js';
import { runs } from '../helpers/property-runs.js';

const T = Date.parse('2026-07-21T00:00:00Z');
const M = 60_000;
const GAUGES = KPI_CATALOGUE.filter((k): k is GaugeKpi => k.kind === 'gauge');

interface Sample {
  writer: string;
  minute: number;
  tags: Record<string, string>;
  fields: Fields;
}

const district = fc.constantFrom('回龙观街道', '天通苑北街道', 'unknown');
const writer = fc.constantFrom('huitian.dispatch-0', 'huitian.dispatch-3', 'bench');
const minute = fc.integer({ min: 0, max: 11 });
const depth = fc.oneof(fc.integer({ min: 0, max: 80 }), fc.double({ min: 0, max: 200, noNaN: true }));

const sampleOf: Record<string, fc.Arbitrary<Sample>> = {
  waterlogging: fc
    .record({ writer, minute, district, point: fc.constantFrom('HLG-001', 'HLG-002', 'TTY-003'), latest: depth, carried: depth })
    .map((s) => ({
      writer: s.writer,
      minute: s.minute,
      tags: { district: s.district, point: s.point },
      fields: { depth_cm: s.latest, max_depth_cm: Math.max(s.latest, s.carried), over_threshold: s.latest >= 15 ? 1 : 0, points: 1 },
    })),
  parking: fc
    .record({ writer, minute, district, lot: fc.constantFrom('P-A', 'P-B', 'P-C'), occupied: fc.integer({ min: 0, max: 400 }), capacity: fc.integer({ min: 1, max: 300 }) })
    .map((s) => ({ writer: s.writer, minute: s.minute, tags: { district: s.district, lot: s.lot }, fields: { occupied: s.occupied, capacity: s.capacity } })),
  utility_alarms: fc
    .record({ writer, minute, district, network: fc.constantFrom('gas', 'water', 'power'), active: fc.integer({ min: 0, max: 6 }) })
    .map((s) => ({ writer: s.writer, minute: s.minute, tags: { network: s.network, district: s.district }, fields: { active: s.active } })),
};

/** One sample per (writer, series, minute), as partial keys are: a rewrite overwrites. */
function samplesOf(family: string): fc.Arbitrary<Sample[]> {
  return fc.uniqueArray(sampleOf[family]!, { maxLength: 60, selector: (s) => `${s.writer}|${tagKeyOf(s.tags)}|${s.minute}` });
}

/** What a store holds and reads back: partials merged per (family, bucket, tags) over writers, in one fixed order. */
function mergedOverWriters(family: string, rows: ReadonlyArray<{ bucket: number; tags: Record<string, string>; fields: Fields }>): PartialRow[] {
  const out = new Map<string, PartialRow & { fields: Fields }>();
  for (const r of rows) {
    const key = `${r.bucket}|${tagKeyOf(r.tags)}`;
    const row = out.get(key);
    if (row === undefined) out.set(key, { family, bucket: r.bucket, tags: r.tags, fields: { ...r.fields } });
    else mergeFields(row.fields, r.fields);
  }
  return [...out.values()];
}

/** Each writer's rollups, minute by minute, as its gauge writes them while sampling. */
function rollupsOf(family: string, samples: readonly Sample[]): Map<string, Array<{ bucket: number; tags: Record<string, string>; fields: Fields }>> {
  const g = GAUGE_FAMILIES.get(family)!;
  const byFamily = new Map<string, Array<{ bucket: number; tags: Record<string, string>; fields: Fields }>>();
  const writers = [...new Set(samples.map((s) => s.writer))];
  for (const w of writers) {
    for (let m = 0; m < 12; m++) {
      const rollup = new MinuteRollup(g);
      const buffer = new PartialBuffer();
      for (const s of samples) if (s.writer === w && s.minute === m) rollup.add(s.tags, s.fields);
      rollup.flushTo(buffer, T + m * M);
      for (const d of buffer.drain()) {
        const list = byFamily.get(d.family) ?? [];
        list.push({ bucket: d.bucket, tags: { ...d.tags }, fields: d.fields });
        byFamily.set(d.family, list);
      }
    }
  }
  return byFamily;
}

/**
 * A store's aggregates of one series: count, max and last of its minute values in time
 * order, and the sum of their millionths in another order (InfluxDB's storage engine adds
 * by block, not by time).
 */
function aggregateOf(def: GaugeKpi, family: string, samples: readonly Sample[]): SeriesAggregate {
  const g = GAUGE_FAMILIES.get(family)!;
  const agg: SeriesAggregate = { samples: 0, fixedSum: 0, max: null, last: null };
  const stored = [...samples].sort((a, b) => a.minute - b.minute).map((s) => ({ ...s.fields, ...g.seriesFields?.(s.fields) }));
  for (const f of stored) {
    const v = f[def.entitySeriesField!];
    if (v === undefined) continue;
    agg.samples++;
    if (agg.max === null || v > agg.max) agg.max = v;
    agg.last = v;
  }
  let sum = 0;
  for (const f of stored.reverse()) sum += f[def.entitySeriesFixedField ?? def.entitySeriesField!] ?? 0;
  agg.fixedSum = def.entitySeriesFixedField === undefined ? sum * GAUGE_MEAN_SCALE : sum;
  return agg;
}

const range = fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([a, n]) => [T + a * M, T + Math.min(12, a + n) * M] as const);

describe('gauge rollups', () => {
  it('every entity gauge KPI has a stored per-series field equal to its minute value for one series', () => {
    for (const def of GAUGES) {
      const g = GAUGE_FAMILIES.get(def.family)!;
      if (g.entityTag === null) continue;
      expect(def.entitySeriesField, def.name).toBeDefined();
      fc.assert(
        fc.property(sampleOf[def.family]!, (s) => {
          const stored = { ...s.fields, ...g.seriesFields?.(s.fields) };
          const v = def.minuteValue(s.fields);
          expect(v === null ? undefined : v).toBe(stored[def.entitySeriesField!]);
          // minuteFields are all it reads.
          expect(def.minuteValue(Object.fromEntries(def.minuteFields.filter((f) => s.fields[f] !== undefined).map((f) => [f, s.fields[f]!])))).toBe(v);
          if (v !== null) {
            if (def.entitySeriesFixedField === undefined) expect(Number.isInteger(v)).toBe(true);
            else expect(stored[def.entitySeriesFixedField]).toBe(fixedPoint(v));
          }
        }),
        { numRuns: runs(200) },
      );
    }
  });

  for (const family of GAUGE_FAMILIES.keys()) {
    const defs = GAUGES.filter((d) => d.family === family);
    it(`${family}: rollups of several writers, merged per minute, answer as every minute partial does (ungrouped and by each rollup tag)`, () => {
      fc.assert(
        fc.property(samplesOf(family), range, (samples, [from, to]) => {
          const raw = mergedOverWriters(family, samples.map((s) => ({ bucket: T + s.minute * M, tags: s.tags, fields: s.fields })));
          const rollups = rollupsOf(family, samples);
          for (const def of defs) {
            for (const groupBy of [[], ...GAUGE_FAMILIES.get(family)!.rollupTags.map((t) => [t])]) {
              const rf = rollupFor(def, groupBy)!;
              const rows = mergedOverWriters(def.family, rollups.get(rf) ?? []);
              expect(evaluateKpi(def, rows, from, to, groupBy)).toEqual(evaluateKpi(def, raw, from, to, groupBy));
              // The completeness check: every minute partial is accounted for.
              const inRange = (b: number) => b >= from && b < to;
              const accounted = rows.filter((r) => inRange(r.bucket)).reduce((n, r) => n + r.fields[ROLLUP_SERIES_FIELD]!, 0);
              expect(accounted).toBe(samples.filter((s) => inRange(T + s.minute * M)).length);
            }
          }
        }),
        { numRuns: runs(150) },
      );
    });

    if (GAUGE_FAMILIES.get(family)!.entityTag === null) continue;
    it(`${family}: per-series aggregates, with the minutes of entities several series or writers wrote, answer as every minute partial does (by the entity tag)`, () => {
      const g = GAUGE_FAMILIES.get(family)!;
      fc.assert(
        fc.property(samplesOf(family), range, fc.boolean(), (samples, [from, to], withDistrict) => {
          const inRange = samples.filter((s) => T + s.minute * M >= from && T + s.minute * M < to);
          const raw = mergedOverWriters(family, samples.map((s) => ({ bucket: T + s.minute * M, tags: s.tags, fields: s.fields })));
          for (const def of defs) {
            const groupBy = withDistrict ? ['district', g.entityTag!] : [g.entityTag!];
            expect(entityGrouping(def, groupBy)).toEqual({ entityTag: g.entityTag, field: def.entitySeriesField, fixedField: def.entitySeriesFixedField ?? null });
            const perSeries = new Map<string, Sample[]>();
            for (const s of inRange) {
              const key = `${tagKeyOf(s.tags)}|${s.writer}`;
              perSeries.set(key, [...(perSeries.get(key) ?? []), s]);
            }
            const stored: StoredSeriesAggregate[] = [...perSeries.values()].map((list) => ({ tags: list[0]!.tags, writer: list[0]!.writer, aggregate: aggregateOf(def, family, list) }));
            const { summarised, entities } = splitEntityGroups(stored, groupBy, g.entityTag!);
            const rows = raw.filter((r) => entities.includes(r.tags[g.entityTag!]!));
            const overall = mergedOverWriters(def.family, rollupsOf(family, samples).get(rollupFamily(family, null)) ?? []);
            const answer = evaluateGaugeParts(def, { overall, summarised, rows }, from, to, groupBy);
            expect(answer).toEqual(evaluateKpi(def, raw, from, to, groupBy));
          }
        }),
        { numRuns: runs(150) },
      );
    });
  }

  it('an aggregate of one series answers as summariseGauge over its minutes; none has no value', () => {
    const minutes = new Map<number, Fields>([
      [T, { occupied: 1, capacity: 3 }],
      [T + M, { occupied: 2, capacity: 3 }],
      [T + 2 * M, { occupied: 1, capacity: 7 }],
    ]);
    const def = GAUGES.find((d) => d.family === 'parking')!;
    let fixedSum = 0;
    for (const f of [...minutes.values()].reverse()) fixedSum += fixedPoint((f.occupied ?? 0) / f.capacity!);
    expect(summaryOfAggregate({ samples: 3, fixedSum, max: 2 / 3, last: 1 / 7 })).toEqual(summariseGauge(def, minutes));
    expect(summaryOfAggregate({ samples: 0, fixedSum: 0, max: null, last: null })).toEqual(summariseGauge(def, new Map()));
  });

  it('a group that two writers or two series wrote is read per minute, with every group of its entity', () => {
    const agg: SeriesAggregate = { samples: 1, fixedSum: 1e6, max: 1, last: 1 };
    const split = splitEntityGroups(
      [
        { tags: { district: 'A', point: 'P1' }, writer: 'w1', aggregate: agg },
        { tags: { district: 'A', point: 'P1' }, writer: 'w2', aggregate: agg },
        { tags: { district: 'B', point: 'P1' }, writer: 'w2', aggregate: agg },
        { tags: { district: 'A', point: 'P2' }, writer: 'w1', aggregate: agg },
      ],
      ['district', 'point'],
      'point',
    );
    expect(split.entities).toEqual(['P1']);
    expect(split.summarised.map((s) => s.tags.point)).toEqual(['P2']);
  });

  it('a series whose series_* fields do not cover its minutes (written before them) is read per minute', () => {
    const agg: SeriesAggregate = { samples: 1, fixedSum: 1e6, max: 1, last: 1 };
    const split = splitEntityGroups(
      [
        { tags: { lot: 'L1' }, writer: 'w1', aggregate: agg, complete: false },
        { tags: { lot: 'L2' }, writer: 'w1', aggregate: agg, complete: true },
      ],
      ['lot'],
      'lot',
    );
    expect(split.entities).toEqual(['L1']);
    expect(split.summarised.map((s) => s.tags.lot)).toEqual(['L2']);
  });
});
