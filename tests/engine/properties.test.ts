/**
 * Properties of the engine over realistic random streams (fast-check):
 * - shuffling arrival order within the allowed lateness never changes a KPI (issue 2);
 * - snapshot → JSON → restore in the middle of a stream changes no output;
 * - two engines fed disjoint halves of a stream (by entity) write partials that add up
 *   to what one engine fed all of it writes (DESIGN §4).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISPATCH_OVERDUE_RULE } from '../../src/alerts/dispatch-overdue.js';
import { KPI_BREACH_RULE } from '../../src/alerts/kpi-breach.js';
import type { AlertChange } from '../../src/alerts/alert.js';
import { Engine, type EngineConfig, type StepResult } from '../../src/engine/engine.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import type { PartialDelta } from '../../src/kpis/partials.js';
import { ROLLUP_SERIES_FIELD } from '../../src/kpis/gauge-rollups.js';
import { engineConfig } from '../helpers/engine-run.js';
import { ms } from '../helpers/events.js';
import { allKpis, entityHalf, eventStream, inTimeOrder, mergedRows, shuffledWithinLateness } from '../helpers/stream.js';
import { runs, budget } from '../helpers/property-runs.js';

const LATENESS = 60_000;
/**
 * Live mode, fed with a wall clock that stands still, then flushed by one tick this much
 * later: past every decision and the 24 h eviction of pending incidents.
 */
const FLUSH_AFTER = 26 * 3600_000;
/** The standing wall clock: after every generated event, so live mode refuses none as `future`. */
const WALL = ms(3 * 3600);
/** Property runs replay whole streams many times over. */
const SLOW = budget(120_000);
/** Shrinking a failing stream can take long: stop (and fail) before the test times out. */
const BOUNDED = { interruptAfterTimeLimit: budget(100_000), markInterruptAsFailure: true };

interface RunOutput {
  outcomes: string[];
  partials: PartialDelta[];
  alerts: AlertChange[];
}

/** Feeds `events` in batches of the given sizes; in live mode, ends with a tick far ahead. */
function run(config: EngineConfig, events: readonly HuitianEvent[], batchSizes: readonly number[] = [1], flush = config.timeMode === 'live'): RunOutput {
  const engine = new Engine(config);
  const out: RunOutput = { outcomes: [], partials: [], alerts: [] };
  const keep = (s: StepResult) => {
    out.outcomes.push(...s.outcomes);
    out.partials.push(...s.partials);
    out.alerts.push(...s.alerts);
  };
  let i = 0;
  let b = 0;
  while (i < events.length) {
    const size = Math.max(1, batchSizes[b++ % batchSizes.length]!);
    keep(engine.ingest(events.slice(i, i + size), 'c', WALL));
    i += size;
  }
  if (flush) keep(engine.tick(WALL + FLUSH_AFTER));
  return out;
}

/**
 * Merged rows in key order. A gauge rollup's `rollup_series` counts the minute partials each
 * writer wrote (kpis/gauge-rollups.ts), so two engines writing one utility group count 2
 * where one engine counts 1: it is bookkeeping of writes, not data, and left out here.
 */
function sortedRows(partials: readonly PartialDelta[]) {
  return [...mergedRows(partials).entries()]
    .map(([k, row]) => {
      if (row.fields[ROLLUP_SERIES_FIELD] === undefined) return [k, row] as const;
      const { [ROLLUP_SERIES_FIELD]: _writes, ...fields } = row.fields;
      return [k, { ...row, fields }] as const;
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Alerts whose opening follows event time alone (not arrival): watermark rules. */
function watermarkAlertOpenings(alerts: readonly AlertChange[]) {
  return alerts
    .filter((c) => c.action === 'opened' && (c.alert.rule === DISPATCH_OVERDUE_RULE || c.alert.rule === KPI_BREACH_RULE))
    .map((c) => `${c.alert.id} ${c.alert.rule} ${c.alert.entityId} ${c.alert.openedAt} ${c.alert.severity}`)
    .sort();
}

const jitters = fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 64 });
const batches = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 });

describe('shuffling arrival order within the allowed lateness', () => {
  for (const timeMode of ['replay', 'live'] as const) {
    it(`never changes a KPI (${timeMode}${timeMode === 'live' ? ', flushed to the end' : ', at the final watermark'})`, () => {
      fc.assert(
        // The overdue deadline is configurable apart from the KPI's 300 s: vary it too.
        fc.property(eventStream, jitters, batches, fc.constantFrom(240, 300, 420), (events, jitter, sizes, responseSeconds) => {
          const defaults = engineConfig().rules;
          const config = engineConfig({ timeMode, latenessMs: LATENESS, rules: { ...defaults, dispatch: { responseSeconds } } });
          const ordered = inTimeOrder(events);
          const shuffled = shuffledWithinLateness(events, jitter, LATENESS);
          const a = run(config, ordered);
          const b = run(config, shuffled, sizes);
          // Nothing is late in either run; only the duplicates are refused.
          const refused = (o: RunOutput) => o.outcomes.filter((x) => x !== 'accepted');
          expect(refused(a).every((x) => x === 'duplicate')).toBe(true);
          expect(refused(b)).toEqual(refused(a));
          expect(sortedRows(b.partials)).toEqual(sortedRows(a.partials));
          expect(allKpis([...mergedRows(b.partials).values()])).toEqual(allKpis([...mergedRows(a.partials).values()]));
          expect(watermarkAlertOpenings(b.alerts)).toEqual(watermarkAlertOpenings(a.alerts));
        }),
        { ...BOUNDED, numRuns: runs(timeMode === 'replay' ? 150 : 40) },
      );
    }, SLOW);
  }

  it('the generator exercises what it should (guards the property against a dull generator)', () => {
    const config = engineConfig({ timeMode: 'live', latenessMs: LATENESS });
    const seen = { covered: 0, missed: 0, unresolved: 0, rt: 0, over: 0, parking: 0, alarms: 0, duplicates: 0 };
    fc.assert(
      fc.property(eventStream, (events) => {
        const out = run(config, inTimeOrder(events));
        for (const p of out.partials) {
          seen.covered += p.fields.covered ?? 0;
          seen.missed += p.fields.missed ?? 0;
          seen.unresolved += p.fields.unresolved ?? 0;
          seen.rt += p.fields.rt_count ?? 0;
          seen.over += p.fields.over_threshold ?? 0;
          seen.parking += p.family === 'parking' ? 1 : 0;
          seen.alarms += p.fields.active ?? 0;
        }
        seen.duplicates += out.outcomes.filter((o) => o === 'duplicate').length;
      }),
      { ...BOUNDED, numRuns: 30 },
    );
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
  }, SLOW);
});

describe('snapshot → JSON → restore in the middle of a stream', () => {
  it('gives the same outputs as an uninterrupted run', () => {
    fc.assert(
      fc.property(eventStream, jitters, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('replay' as const, 'live' as const), (events, jitter, cutAt, timeMode) => {
        const config = engineConfig({ timeMode, latenessMs: LATENESS });
        const stream = shuffledWithinLateness(events, jitter, LATENESS);
        const cut = Math.floor(cutAt * stream.length);
        const steps = (engine: Engine, from: number, to: number, now: (i: number) => number) => {
          const out: StepResult[] = [];
          for (let i = from; i < to; i++) out.push(engine.ingest([stream[i]!], 'c', now(i), i % 3 === 0));
          return out;
        };
        // A wall clock that moves: live mode's idle advance is part of what must survive.
        const now = (i: number) => WALL + i * 2_000;
        const whole = new Engine(config);
        steps(whole, 0, cut, now);
        const expected = [...steps(whole, cut, stream.length, now), whole.tick(now(stream.length) + FLUSH_AFTER)];

        const first = new Engine(config);
        steps(first, 0, cut, now);
        const restored = Engine.restore(config, JSON.parse(JSON.stringify(first.snapshot())));
        const actual = [...steps(restored, cut, stream.length, now), restored.tick(now(stream.length) + FLUSH_AFTER)];

        expect(actual).toEqual(expected);
        expect(restored.stats()).toEqual(whole.stats());
        expect(JSON.parse(JSON.stringify(restored.snapshot()))).toEqual(JSON.parse(JSON.stringify(whole.snapshot())));
      }),
      { ...BOUNDED, numRuns: runs(60) },
    );
  }, SLOW);
});

describe('two engines fed disjoint halves of a stream', () => {
  it('write partials that merge into exactly what one engine fed the whole stream writes, for every KPI', () => {
    const config = engineConfig({ timeMode: 'live', latenessMs: LATENESS });
    fc.assert(
      fc.property(eventStream, jitters, (events, jitter) => {
        const stream = shuffledWithinLateness(events, jitter, LATENESS);
        const whole = run(config, stream);
        const half0 = run(config, stream.filter((e) => entityHalf(e) === 0));
        const half1 = run(config, stream.filter((e) => entityHalf(e) === 1));
        const merged = [...half0.partials, ...half1.partials];
        expect(sortedRows(merged)).toEqual(sortedRows(whole.partials));
        expect(allKpis([...mergedRows(merged).values()])).toEqual(allKpis([...mergedRows(whole.partials).values()]));
      }),
      { ...BOUNDED, numRuns: runs(40) },
    );
  }, SLOW);
});
