import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/simulator/simulate.js';
import { runThroughEngine, kpi } from './engine-harness.js';

const DEMO = new URL('../../demo/huitian-demo.ndjson', import.meta.url);
const DEMO_TRUTH = new URL('../../demo/huitian-demo.truth.json', import.meta.url);
/** The arguments in scripts/make-demo.sh. */
const DEMO_OPTIONS = { scenario: 'mixed', start: Date.parse('2026-07-21T06:00:00+08:00'), durationMs: 2 * 3600_000, seed: 364, rateScale: 1, faults: 0.005 } as const;

describe('the bundled demo scenario', () => {
  const text = readFileSync(DEMO, 'utf8');
  const truth = JSON.parse(readFileSync(DEMO_TRUTH, 'utf8'));

  it('is what scripts/make-demo.sh generates today (regenerate it when the simulator changes)', () => {
    const sim = simulate(DEMO_OPTIONS);
    const h = createHash('sha256');
    for (const line of sim) h.update(`${line}\n`);
    expect(createHash('sha256').update(text).digest('hex')).toBe(h.digest('hex'));
    expect(JSON.parse(JSON.stringify(sim.truth()))).toEqual(truth);
  });

  it('is small and shows what the quick start promises', () => {
    expect(statSync(DEMO).size).toBeLessThanOrEqual(1_000_000);
    expect(truth.stream.lines).toBeLessThan(5000);
    expect(truth.waterlogging.reached.red).toBeGreaterThan(0);
    expect(truth.fireResponse.overall.missed).toBeGreaterThan(0);
    expect(truth.fireResponse.overall.covered).toBeGreaterThan(0);
    expect(truth.parking.lotsThatAlert).toContain('P-LZPR');
    expect(truth.gas.linesReachingRed.length).toBe(1);
    expect(truth.service.rejected).toBeGreaterThan(0);
  });

  it('agrees with the engine', () => {
    const run = runThroughEngine(text.split('\n').filter((l) => l !== ''));
    const coverage = kpi(run, 'fire_response_coverage_5min');
    expect([coverage.numerator, coverage.denominator]).toEqual([truth.fireResponse.overall.covered, truth.fireResponse.overall.covered + truth.fireResponse.overall.missed]);
    expect(run.rejected).toBe(truth.service.rejected);
    expect(run.stats.late).toBe(truth.service.late);
  });
});
