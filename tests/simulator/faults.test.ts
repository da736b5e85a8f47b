import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson } from '../../src/events/decode.js';
import { parseRfc3339 } from '../../src/events/event-time.js';
import { LATE_MIN_MS, MAX_DISORDER_MS } from '../../src/simulator/faults.js';
import { simulate } from '../../src/simulator/simulate.js';
import { budget, runs } from '../helpers/property-runs.js';
import { options } from './fixtures.js';

/**
 * The fault injector's promises hold for any seed, so each run draws its own seeds (fast-check
 * reports a failing one). Seeds 7 and 3, fixed here before, hid that a reading made late near
 * the stream's end was flushed too early, about every other seed (see faults.ts).
 */
const SEED = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const SEED_RUNS = 10;

describe('faults', () => {
  it('writes only valid events without faults', () => {
    const sim = simulate(options('mixed', '6h'));
    let n = 0;
    for (const line of sim) {
      const d = decodeJson(line);
      if (!d.ok) throw new Error(`line ${n + 1}: ${d.reason}: ${line}`);
      n++;
    }
    const t = sim.truth();
    expect(t.stream.lines).toBe(n);
    expect(t.stream.malformedLines).toBe(0);
    expect(t.faults).toMatchObject({ duplicates: 0, outOfOrder: 0, late: 0, malformed: 0 });
    expect(t.service).toEqual({ accepted: n, duplicates: 0, late: 0, rejected: 0 });
  });

  it('makes malformed exactly the lines it says, of each kind, and decodes every other line', () => {
    fc.assert(fc.property(SEED, (seed) => malformedAsSaid(seed)), { numRuns: runs(SEED_RUNS) });
  }, budget(30_000));

  function malformedAsSaid(seed: number): void {
    const sim = simulate(options('mixed', '12h', { faults: 0.02, seed }));
    const reasons = new Map<string, number>();
    let invalid = 0;
    let valid = 0;
    for (const line of sim) {
      const d = decodeJson(line);
      if (d.ok) {
        valid++;
        continue;
      }
      invalid++;
      const kind = d.reason.includes('invalid JSON') ? 'bad_json' : 'missing_field or invalid_value';
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    }
    const t = sim.truth();
    expect(invalid).toBe(t.faults.malformed);
    expect(invalid).toBe(t.service.rejected);
    expect(valid).toBe(t.stream.validLines);
    const k = t.faults.malformedByKind;
    expect(Object.fromEntries(reasons)).toEqual({ bad_json: k.bad_json, 'missing_field or invalid_value': k.missing_field + k.invalid_value });
    for (const kind of ['bad_json', 'missing_field', 'invalid_value'] as const) expect(t.faults.malformedByKind[kind]).toBeGreaterThan(10);
  }

  it('injects each fault at about the rate asked for, with the displacements promised', () => {
    fc.assert(fc.property(SEED, (seed) => faultsAsPromised(seed)), { numRuns: runs(SEED_RUNS) });
  }, budget(30_000));

  function faultsAsPromised(seed: number): void {
    const p = 0.02;
    const sim = simulate(options('mixed', '24h', { faults: p, seed }));
    const seen = new Map<string, number>();
    let newest = Number.NEGATIVE_INFINITY;
    let maxBehind = 0;
    const behind: number[] = [];
    let repeats = 0;
    for (const line of sim) {
      const d = decodeJson(line);
      if (!d.ok) continue;
      const e = d.event;
      const key = `${e.source} ${e.id}`;
      if (seen.has(key)) {
        repeats++;
        continue;
      }
      seen.set(key, e.time);
      if (e.time < newest) behind.push(newest - e.time);
      if (e.time > newest) newest = e.time;
    }
    const t = sim.truth();
    const events = t.stream.validLines - t.faults.duplicates;
    for (const n of [t.faults.duplicates, t.faults.outOfOrder, t.faults.malformed]) expect(n / events).toBeGreaterThan(p * 0.7);
    for (const n of [t.faults.duplicates, t.faults.outOfOrder, t.faults.malformed]) expect(n / events).toBeLessThan(p * 1.3);
    expect(t.faults.late).toBeGreaterThan(0);
    expect(repeats).toBe(t.faults.duplicates);
    // Displaced events are either within the lateness bound with a margin, or beyond it
    // (held ≥ 125 s of event time, so at least 60 s behind the newest event, which may be
    // a little older than the moment of release).
    for (const b of behind) {
      expect(b <= MAX_DISORDER_MS || b > 60_000).toBe(true);
      maxBehind = Math.max(maxBehind, b);
    }
    expect(behind.filter((b) => b > 60_000).length).toBe(t.faults.late);
    expect(t.service.late).toBe(t.faults.late);
    expect(t.service.duplicates).toBe(t.faults.duplicates);
    expect(maxBehind).toBeGreaterThan(LATE_MIN_MS);
  }

  it('leaves the stream untouched when p = 0 (no random numbers drawn)', () => {
    const a = [...simulate(options('gas-leak', '3h'))];
    const b = [...simulate(options('gas-leak', '3h', { faults: 0 }))];
    expect(b).toEqual(a);
    for (let i = 1; i < a.length; i++) expect(parseRfc3339(JSON.parse(a[i]!).time)! >= parseRfc3339(JSON.parse(a[i - 1]!).time)!).toBe(true);
  });
});
