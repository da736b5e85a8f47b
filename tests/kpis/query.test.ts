/** KPI queries over partial rows: sum (or max) the partials, divide last (DESIGN §4). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertAckSecondsMean } from '../../src/kpis/alert-ack.js';
import { fireResponseCoverage, fireResponseTimeP90 } from '../../src/kpis/fire-response.js';
import { parkingOccupancyRate } from '../../src/kpis/parking.js';
import { evaluateKpi, kpiSeries, meetsTarget, type PartialRow } from '../../src/kpis/query.js';
import { waterloggingMaxDepth, waterloggingPointsOverThreshold } from '../../src/kpis/waterlogging.js';
import { runs } from '../helpers/property-runs.js';

const M = 60_000;
const T = 1_784_592_000_000; // a minute boundary

const fire = (minute: number, tags: Record<string, string>, fields: Record<string, number>): PartialRow => ({ family: 'fire_response', bucket: T + minute * M, tags, fields });

describe('evaluateKpi: ratio', () => {
  const rows = [
    fire(0, { district: 'A', station: 'S1' }, { covered: 2, missed: 1 }),
    fire(1, { district: 'A', station: 'S2' }, { covered: 1 }),
    fire(1, { district: 'B', station: 'S2' }, { missed: 1, unresolved: 1 }),
    fire(5, { district: 'B', station: 'S1' }, { covered: 4 }),
    { family: 'parking', bucket: T, tags: { district: 'A' }, fields: { covered: 100 } },
  ];

  it('sums numerators and denominators over [from, to) by bucket start, ignoring other families', () => {
    const r = evaluateKpi(fireResponseCoverage, rows, T, T + 5 * M);
    expect(r).toEqual({
      name: 'fire_response_coverage_5min',
      kind: 'ratio',
      unit: 'ratio',
      from: T,
      to: T + 5 * M,
      target: 0.8,
      value: 3 / 5,
      numerator: 3,
      denominator: 5,
      unresolved: 1,
      meetsTarget: false,
      groups: [],
    });
    expect(evaluateKpi(fireResponseCoverage, rows, T + M, T + 6 * M)).toMatchObject({ value: 5 / 6, numerator: 5, denominator: 6, meetsTarget: true });
    expect(evaluateKpi(fireResponseCoverage, rows, T + 5 * M + 1, T + 9 * M)).toMatchObject({ value: null, numerator: 0, denominator: 0, meetsTarget: null });
  });

  it('groups by one tag or two, sorted by key', () => {
    expect(evaluateKpi(fireResponseCoverage, rows, T, T + 10 * M, ['district']).groups).toEqual([
      { key: { district: 'A' }, value: 3 / 4, numerator: 3, denominator: 4 },
      { key: { district: 'B' }, value: 4 / 5, numerator: 4, denominator: 5, unresolved: 1 },
    ]);
    expect(evaluateKpi(fireResponseCoverage, rows, T, T + 10 * M, ['district', 'station']).groups.map((g) => [g.key, g.value])).toEqual([
      [{ district: 'A', station: 'S1' }, 2 / 3],
      [{ district: 'A', station: 'S2' }, 1],
      [{ district: 'B', station: 'S1' }, 1],
      [{ district: 'B', station: 'S2' }, 0],
    ]);
  });

  it('rows without a family are taken as the KPI’s own (a store that queried one family)', () => {
    const bare: PartialRow[] = [{ bucket: T, tags: {}, fields: { covered: 1, missed: 1 } }];
    expect(evaluateKpi(fireResponseCoverage, bare, T, T + M).value).toBe(0.5);
  });

  it('a missing group tag groups as "unknown"', () => {
    const r = evaluateKpi(fireResponseCoverage, [fire(0, {}, { covered: 1 })], T, T + M, ['station']);
    expect(r.groups).toEqual([{ key: { station: 'unknown' }, value: 1, numerator: 1, denominator: 1 }]);
  });
});

describe('evaluateKpi: mean and percentile', () => {
  it('mean = Σ sum ÷ Σ count', () => {
    const rows: PartialRow[] = [
      { family: 'alert_ack', bucket: T, tags: { category: 'flood' }, fields: { ack_seconds_sum: 100, ack_count: 2 } },
      { family: 'alert_ack', bucket: T + M, tags: { category: 'utility' }, fields: { ack_seconds_sum: 30, ack_count: 1 } },
    ];
    expect(evaluateKpi(alertAckSecondsMean, rows, T, T + 2 * M)).toMatchObject({ value: 130 / 3, sum: 130, count: 3, meetsTarget: null });
    expect(evaluateKpi(alertAckSecondsMean, [], T, T + M)).toMatchObject({ value: null, sum: 0, count: 0 });
  });

  it('percentile merges the histograms, then ranks', () => {
    const rows = [fire(0, { district: 'A' }, { rt_le_60: 5, rt_count: 5 }), fire(1, { district: 'B' }, { rt_le_300: 4, rt_le_600: 1, rt_count: 5 })];
    expect(evaluateKpi(fireResponseTimeP90, rows, T, T + 2 * M)).toMatchObject({ value: 300, count: 10, meetsTarget: true });
    expect(evaluateKpi(fireResponseTimeP90, rows, T, T + 2 * M, ['district']).groups).toEqual([
      { key: { district: 'A' }, value: 60, count: 5 },
      { key: { district: 'B' }, value: 600, count: 5 },
    ]);
  });
});

describe('evaluateKpi: gauges', () => {
  const lot = (minute: number, lotId: string, district: string, occupied: number, capacity: number): PartialRow => ({
    family: 'parking',
    bucket: T + minute * M,
    tags: { district, lot: lotId },
    fields: { occupied, capacity },
  });

  it('merges each minute over the group first, then answers last, max and mean over minutes (the mean adds millionths)', () => {
    const rows = [lot(0, 'L1', 'A', 50, 100), lot(0, 'L2', 'B', 100, 100), lot(1, 'L1', 'A', 90, 100), lot(1, 'L2', 'B', 70, 100), lot(2, 'L1', 'A', 10, 100)];
    expect(evaluateKpi(parkingOccupancyRate, rows, T, T + 3 * M)).toMatchObject({ value: 0.1, last: 0.1, max: 0.8, mean: (750_000 + 800_000 + 100_000) / 1e6 / 3, samples: 3 });
    expect(evaluateKpi(parkingOccupancyRate, rows, T, T + 3 * M, ['district']).groups).toEqual([
      { key: { district: 'A' }, value: 0.1, last: 0.1, max: 0.9, mean: (500_000 + 900_000 + 100_000) / 1e6 / 3, samples: 3 },
      { key: { district: 'B' }, value: 0.7, last: 0.7, max: 1, mean: 0.85, samples: 2 },
    ]);
  });

  it('merges max_* fields by maximum and the rest by sum', () => {
    const rows: PartialRow[] = [
      { family: 'waterlogging', bucket: T, tags: { point: 'P1' }, fields: { max_depth_cm: 30, over_threshold: 1, points: 1 } },
      { family: 'waterlogging', bucket: T, tags: { point: 'P2' }, fields: { max_depth_cm: 12, over_threshold: 0, points: 1 } },
      { family: 'waterlogging', bucket: T, tags: { point: 'P3' }, fields: { max_depth_cm: 18, over_threshold: 1, points: 1 } },
    ];
    expect(evaluateKpi(waterloggingMaxDepth, rows, T, T + M)).toMatchObject({ value: 30 });
    expect(evaluateKpi(waterloggingPointsOverThreshold, rows, T, T + M)).toMatchObject({ value: 2 });
  });

  it('has no value over a range with no samples', () => {
    expect(evaluateKpi(parkingOccupancyRate, [], T, T + M)).toMatchObject({ value: null, last: null, max: null, mean: null, samples: 0, meetsTarget: null });
  });
});

describe('meetsTarget', () => {
  it('compares in the KPI’s direction, inclusive for at least / at most, strict for below', () => {
    expect(meetsTarget(fireResponseCoverage, 0.8)).toBe(true);
    expect(meetsTarget(fireResponseCoverage, 0.7999)).toBe(false);
    expect(meetsTarget(fireResponseTimeP90, 300)).toBe(true);
    expect(meetsTarget(fireResponseTimeP90, 305)).toBe(false);
    expect(meetsTarget(fireResponseCoverage, null)).toBeNull();
    expect(meetsTarget(parkingOccupancyRate, 0.85)).toBe(true);
    expect(meetsTarget(parkingOccupancyRate, 0.86)).toBe(false);
    // 15 cm opens the yellow warning: the deepest-water target is strictly below it.
    expect(meetsTarget(waterloggingMaxDepth, 14.9)).toBe(true);
    expect(meetsTarget(waterloggingMaxDepth, 15)).toBe(false);
    expect(meetsTarget(alertAckSecondsMean, 10)).toBeNull();
  });
});

describe('kpiSeries', () => {
  it('gives one point per step over the trailing window', () => {
    const rows = [fire(0, {}, { covered: 1 }), fire(1, {}, { missed: 1 }), fire(2, {}, { covered: 1 }), fire(3, {}, { covered: 1 })];
    const points = kpiSeries(fireResponseCoverage, rows, T, T + 4 * M, M, 2 * M);
    expect(points.map((p) => [(p.at - T) / M, (p.from - T) / M, p.value, p.numerator, p.denominator])).toEqual([
      [1, -1, 1, 1, 1],
      [2, 0, 0.5, 1, 2],
      [3, 1, 0.5, 1, 2],
      [4, 2, 1, 2, 2],
    ]);
  });

  const row = fc.record({
    minute: fc.integer({ min: 0, max: 40 }),
    covered: fc.nat(3),
    missed: fc.nat(3),
    rt: fc.constantFrom('rt_le_60', 'rt_le_300', 'rt_le_305', 'rt_le_900'),
    occupied: fc.nat(120),
  });

  it('equals evaluateKpi over each window, for ratio, percentile and gauge, at any step and window', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 15 }), fc.integer({ min: -5, max: 5 }), (raw, stepMin, windowMin, fromMin) => {
        const rows: PartialRow[] = raw.flatMap((r) => [
          fire(r.minute, {}, { covered: r.covered, missed: r.missed, [r.rt]: 1 }),
          { family: 'parking', bucket: T + r.minute * M, tags: { lot: 'L' }, fields: { occupied: r.occupied, capacity: 100 } },
        ]);
        const from = T + fromMin * M;
        const to = from + 6 * stepMin * M;
        for (const def of [fireResponseCoverage, fireResponseTimeP90, parkingOccupancyRate]) {
          const series = kpiSeries(def, rows, from, to, stepMin * M, windowMin * M);
          expect(series).toHaveLength(6);
          for (const p of series) {
            const { name: _n, kind: _k, unit: _u, from: _f, to: _t, target: _g, meetsTarget: _m, groups: _gr, ...expected } = evaluateKpi(def, rows, p.from, p.at);
            const { at: _a, from: _pf, ...actual } = p;
            expect(actual, `${def.name} window ending ${(p.at - T) / M}`).toEqual(expected);
          }
        }
      }),
      { numRuns: runs(200) },
    );
  });
});
