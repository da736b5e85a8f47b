/**
 * The truth the simulator computes on its own must be what the real engine computes from
 * the stream: coverage per district exactly (numerator and denominator), p90, each
 * point's peak depth, the lots that alert, the gas line that reaches red — with and
 * without producer faults (duplicates and disorder within the lateness change nothing;
 * late events are left out by both).
 */
import { describe, expect, it } from 'vitest';
import type { SimulateOptions } from '../../src/simulator/simulate.js';
import type { Truth } from '../../src/simulator/truth.js';
import { alertedEntities, kpi, openings, runThroughEngine, type EngineRun } from './engine-harness.js';
import { generate, options } from './fixtures.js';

function sorted<T>(entries: Array<[string, T]>): Array<[string, T]> {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function expectAgreement(run: EngineRun, truth: Truth, checkSeverities: boolean): void {
  // What the service counts.
  expect({ accepted: run.stats.accepted, duplicates: run.stats.duplicates, late: run.stats.late, rejected: run.rejected }).toEqual(truth.service);

  // 5-minute coverage, overall and per district: numerator and denominator exactly.
  const f = truth.fireResponse;
  const coverage = kpi(run, 'fire_response_coverage_5min', ['district']);
  expect([coverage.numerator ?? 0, coverage.denominator ?? 0]).toEqual([f.overall.covered, f.overall.covered + f.overall.missed]);
  expect(coverage.unresolved ?? 0).toBe(f.unresolved);
  const engineDistricts = sorted(coverage.groups.filter((g) => (g.denominator as number) > 0).map((g) => [g.key.district!, [g.numerator, g.denominator]]));
  const truthDistricts = sorted(
    Object.entries(f.byDistrict)
      .filter(([, c]) => c.covered + c.missed > 0)
      .map(([d, c]) => [d, [c.covered, c.covered + c.missed]]),
  );
  expect(engineDistricts).toEqual(truthDistricts);
  for (const g of coverage.groups) if (g.value !== null) expect(g.value).toBe(f.byDistrict[g.key.district!]!.value);

  // 90th-percentile response time, from the same histogram rule.
  const p90 = kpi(run, 'fire_response_time_p90');
  expect([p90.value, p90.count ?? 0]).toEqual([f.responseTimeP90Seconds, f.responseTimeCount]);

  // Each point's peak depth.
  const depth = kpi(run, 'waterlogging_max_depth_cm', ['point']);
  expect(sorted(depth.groups.map((g) => [g.key.point!, g.max]))).toEqual(sorted(truth.waterlogging.points.map((p) => [p.pointId, p.peakDepthCm])));

  // Lots full for 5 minutes: which, and how many times.
  expect(sorted([...openings(run, 'parking_full')])).toEqual(sorted(truth.parking.lots.filter((l) => l.alerts.length > 0).map((l) => [l.lotId, l.alerts.length])));

  // Gas lines and the level they reach.
  expect(sorted([...alertedEntities(run, 'gas_leak')])).toEqual(sorted(truth.gas.lines.filter((g) => g.severity !== null).map((g) => [g.lineId, g.severity!])));

  // Waterlogging levels act on arrival and ignore stragglers, so only an undisturbed stream is compared.
  if (checkSeverities) {
    expect(sorted([...alertedEntities(run, 'waterlogging_depth')])).toEqual(sorted(truth.waterlogging.points.filter((p) => p.severity !== null).map((p) => [p.pointId, p.severity!])));
  }
}

const CASES: Array<[string, SimulateOptions]> = [
  ['rainstorm', options('rainstorm', '12h')],
  ['fire-week', options('fire-week', '7d')],
  ['rush-hour', options('rush-hour', '24h')],
  ['gas-leak', options('gas-leak', '24h')],
  ['mixed', options('mixed', '24h')],
];

describe('truth = engine', () => {
  for (const [name, o] of CASES) {
    it(`${name}: without faults`, () => {
      const { lines, truth } = generate(o);
      expectAgreement(runThroughEngine(lines), truth, true);
    });
    it(`${name}: with --faults 0.02`, () => {
      const { lines, truth } = generate({ ...o, faults: 0.02, seed: 2 });
      expect(truth.faults.duplicates + truth.faults.outOfOrder).toBeGreaterThan(0);
      expectAgreement(runThroughEngine(lines), truth, false);
    });
  }

  it('fire week over 14 days at rate scale 3: incidents left open are evicted as unresolved', () => {
    const { lines, truth } = generate({ ...options('fire-week', '14d'), rateScale: 3, faults: 0.02, seed: 4 });
    expect(truth.fireResponse.unresolved).toBeGreaterThan(0);
    expectAgreement(runThroughEngine(lines), truth, false);
  });

  it('mixed on a weekend, at rate scale 2.5, with --faults 0.05', () => {
    const { lines, truth } = generate({ ...options('mixed', '18h'), start: Date.parse('2026-07-25T06:00:00+08:00'), rateScale: 2.5, faults: 0.05, seed: 5 });
    expect(truth.service.late).toBeGreaterThan(100);
    expectAgreement(runThroughEngine(lines), truth, false);
  });
});

describe('the scenarios do what they promise', () => {
  it('rainstorm: points pass 15, 27 and 40 cm, rise and recede', () => {
    const { truth } = generate(options('rainstorm', '12h'));
    const r = truth.waterlogging.reached;
    expect(r.red).toBeGreaterThanOrEqual(2);
    expect(r.orange).toBeGreaterThan(r.red);
    expect(r.yellow).toBeGreaterThan(r.orange);
    expect(truth.waterlogging.points.length).toBe(20);
  });

  it('fire week: covered, missed (also with no arrival at all), excluded, and responses over 300 s', () => {
    const { truth } = generate(options('fire-week', '7d'));
    const f = truth.fireResponse;
    expect(f.overall.covered).toBeGreaterThan(50);
    expect(f.overall.missed).toBeGreaterThan(3);
    expect(f.overall.excluded).toBeGreaterThan(0);
    expect(f.incidents.some((i) => i.outcome === 'missed' && i.firstArrival === null)).toBe(true);
    expect(f.incidents.some((i) => (i.responseSeconds ?? 0) > 300)).toBe(true);
    expect(f.overall.value!).toBeGreaterThan(0.6);
    expect(Object.keys(f.byDistrict).length).toBe(8);
  });

  it('rush hour: some lots stay full long enough to alert, others never do', () => {
    const { truth } = generate(options('rush-hour', '24h'));
    expect(truth.parking.lotsThatAlert.length).toBeGreaterThanOrEqual(3);
    expect(truth.parking.lotsThatAlert.length).toBeLessThan(truth.parking.lots.length);
    expect(truth.parking.lotsThatAlert).toContain('P-LZPR');
  });

  it('gas leak: one line passes 20 and 50 %LEL and recedes; operators raise and clear alarms', () => {
    const { truth } = generate(options('gas-leak', '24h'));
    expect(truth.gas.linesReachingRed).toEqual(['GAS-HLG-01']);
    expect(truth.gas.peakLelPct!).toBeGreaterThan(55);
    expect(truth.utilityAlarms.raised).toBeGreaterThan(0);
    expect(truth.utilityAlarms.cleared).toBe(truth.utilityAlarms.raised);
  });
});
