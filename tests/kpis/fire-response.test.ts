/**
 * 5-minute fire response coverage and the 90th-percentile response time (issue 2): every
 * edge of the definition, through the engine, asserted on the partial rows it writes and
 * on the KPI the query computes from them.
 */
import { describe, expect, it } from 'vitest';
import { DISPATCH_OVERDUE_RULE } from '../../src/alerts/dispatch-overdue.js';
import { coverageValue, fireResponseCoverage, fireResponseTimeP90, responseTimeP90 } from '../../src/kpis/fire-response.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { core, HLG, ms, TTYN } from '../helpers/events.js';
import { Engine } from '../../src/engine/engine.js';
import { formatInZone } from '../../src/time/time-zone.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const { received, dispatched, arrived, closed } = core;
const COVERAGE = 'fire_response_coverage_5min';
const P90 = 'fire_response_time_p90';

function fire(run: EngineRun) {
  return run.family('fire_response');
}

describe('fire_response_coverage_5min: the 300 s limit', () => {
  it('an arrival exactly 300 s after the dispatch order is covered', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', '回龙观消防站'), arrived(330, 'F1', 'U1')]);
    run.watermarkTo(400);
    expect(fire(run)).toEqual([
      { minute: 0, tags: { district: HLG, station: '回龙观消防站' }, fields: { covered: 1, rt_count: 1, rt_sum: 300, rt_le_300: 1 } },
    ]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: 1, numerator: 1, denominator: 1, meetsTarget: true });
  });

  it('301 s is missed, and its response time still enters the histogram', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'rescue', HLG), dispatched(30, 'F1', 'U1', 'S1'), arrived(331, 'F1', 'U1')]);
    run.watermarkTo(400);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1, rt_count: 1, rt_sum: 301, rt_le_305: 1 } }]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: 0, numerator: 0, denominator: 1, meetsTarget: false });
    expect(run.kpi(P90)).toMatchObject({ value: 305, count: 1 });
  });

  it('one millisecond past 300 s is missed', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1'), arrived(330.001, 'F1', 'U1')]);
    run.watermarkTo(400);
    expect(fire(run)[0]!.fields).toEqual({ missed: 1, rt_count: 1, rt_sum: 300.001, rt_le_305: 1 });
  });

  it('an incident cancelled before any arrival and within 300 s is left out', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1'), closed(200, 'F1', 'cancelled'), arrived(250, 'F1', 'U1')]);
    run.watermarkTo(3600);
    expect(fire(run)).toEqual([]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: null, numerator: 0, denominator: 0, meetsTarget: null });
    expect(run.transitions()).toEqual([]);
  });

  it('a close exactly at the limit is left out; one a second later, with no arrival, is missed', () => {
    const atLimit = new EngineRun();
    atLimit.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1'), closed(330, 'F1', 'false_alarm')]);
    atLimit.watermarkTo(3600);
    expect(fire(atLimit)).toEqual([]);

    const after = new EngineRun();
    after.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1'), closed(331, 'F1', 'completed')]);
    after.watermarkTo(3600);
    expect(fire(after)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1 } }]);
  });

  it('an arrival at the same instant as the close counts as covered', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1'), arrived(100, 'F1', 'U1'), closed(100, 'F1', 'completed')]);
    run.watermarkTo(600);
    expect(fire(run)[0]!.fields).toEqual({ covered: 1, rt_count: 1, rt_sum: 100, rt_le_100: 1 });
  });
});

describe('fire_response_coverage_5min: no arrival is decided by the watermark', () => {
  it('nothing is emitted until the watermark passes clock start + 300 s; then `missed` and the overdue alert', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')]);
    expect(run.watermarkTo(330).partials).toEqual([]);
    expect(run.engine.watermark).toBe(ms(330));
    expect(run.rows).toEqual([]);
    expect(run.changes).toEqual([]);
    expect(run.engine.stats().pendingIncidents).toBe(1);

    const step = run.watermarkTo(330.001);
    expect(step.partials.map((p) => p.fields)).toEqual([{ missed: 1 }]);
    expect(step.alerts.map((c) => [c.action, c.alert.rule, c.alert.entityId, c.alert.severity])).toEqual([['opened', DISPATCH_OVERDUE_RULE, 'F1', 'orange']]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: 0, numerator: 0, denominator: 1 });
  });

  it('a unit arriving later adds the response time once, and the incident is not counted twice', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')]);
    run.watermarkTo(400);
    run.stream([arrived(420, 'F1', 'U1'), arrived(430, 'F1', 'U2')]);
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1, rt_count: 1, rt_sum: 390, rt_le_390: 1 } }]);
    expect(run.engine.stats().pendingIncidents).toBe(0);
  });
});

describe('fire_response_coverage_5min: the clock start', () => {
  const events = () => [received(0, 'F1', 'fire', HLG, { station: 'RS' }), dispatched(100, 'F1', 'U1', 'S1'), arrived(310, 'F1', 'U1')];

  it('starts at the first dispatch order by default (210 s: covered)', () => {
    const run = new EngineRun();
    run.stream(events());
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { covered: 1, rt_count: 1, rt_sum: 210, rt_le_210: 1 } }]);
  });

  it('starts at `received` when configured so (310 s: missed), still grouped by the first dispatch station', () => {
    const run = new EngineRun(engineConfig({ fireClockStart: 'received' }));
    run.stream(events());
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1, rt_count: 1, rt_sum: 310, rt_le_310: 1 } }]);
  });

  it('received mode decides a never-dispatched incident at received + 300 s', () => {
    const run = new EngineRun(engineConfig({ fireClockStart: 'received' }));
    run.stream([received(0, 'F1', 'fire', HLG, { station: 'RS' })]);
    run.watermarkTo(300);
    expect(run.rows).toEqual([]);
    run.watermarkTo(300.001);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'RS' }, fields: { missed: 1 } }]);
  });

  it('received mode: a dispatch after the decision instant does not name the station, whatever the arrival order', () => {
    const inOrder = new EngineRun(engineConfig({ fireClockStart: 'received' }));
    inOrder.stream([received(0, 'F1', 'fire', HLG), dispatched(350, 'F1', 'U1', 'S1')]);
    inOrder.watermarkTo(1000);
    const dispatchAfterDecision = new EngineRun(engineConfig({ fireClockStart: 'received' }));
    dispatchAfterDecision.stream([received(0, 'F1', 'fire', HLG)]);
    dispatchAfterDecision.watermarkTo(301);
    dispatchAfterDecision.stream([dispatched(350, 'F1', 'U1', 'S1')]);
    dispatchAfterDecision.watermarkTo(1000);
    const expected = [{ minute: 0, tags: { district: HLG, station: 'unknown' }, fields: { missed: 1 } }];
    expect(fire(inOrder)).toEqual(expected);
    expect(fire(dispatchAfterDecision)).toEqual(expected);
  });

  it('a unit arriving with no dispatch recorded starts the clock at `received`', () => {
    const run = new EngineRun();
    run.streamSorted([received(0, 'F1', 'fire', HLG, { station: 'RS' }), arrived(250, 'F1', 'U1'), received(60, 'F2', 'fire', HLG), arrived(361, 'F2', 'U9')]);
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([
      { minute: 0, tags: { district: HLG, station: 'RS' }, fields: { covered: 1, rt_count: 1, rt_sum: 250, rt_le_250: 1 } },
      { minute: 1, tags: { district: HLG, station: 'unknown' }, fields: { missed: 1, rt_count: 1, rt_sum: 301, rt_le_305: 1 } },
    ]);
  });

  it('a dispatch recorded after the first arrival does not start the clock', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), arrived(280, 'F1', 'U1'), dispatched(290, 'F1', 'U2', 'S2')]);
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'unknown' }, fields: { covered: 1, rt_count: 1, rt_sum: 280, rt_le_280: 1 } }]);
  });
});

describe('fire_response_coverage_5min: several units and out-of-order arrival', () => {
  it('uses the earliest arrival over all units even when it is delivered after a later one', () => {
    const run = new EngineRun();
    const outcomes = run.stream([
      received(0, 'F1', 'fire', HLG),
      dispatched(10, 'F1', 'U1', 'S1'),
      dispatched(20, 'F1', 'U2', 'S2'),
      arrived(320, 'F1', 'U2'), // 310 s after the order
      arrived(290, 'F1', 'U1'), // delivered second, 280 s: the first arrival
    ]);
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    run.watermarkTo(1000);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { covered: 1, rt_count: 1, rt_sum: 280, rt_le_280: 1 } }]);
  });

  it('takes the station of the first dispatch by event time, not by arrival', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG, { station: 'RS' }), dispatched(40, 'F1', 'U2', 'S2'), dispatched(20, 'F1', 'U1', 'S1'), arrived(200, 'F1', 'U2')]);
    run.watermarkTo(1000);
    expect(fire(run)[0]!.tags).toEqual({ district: HLG, station: 'S1' });
  });

  it('a first dispatch without a station falls back to the station named at `received`', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG, { station: 'RS' }), dispatched(20, 'F1', 'U1'), dispatched(40, 'F1', 'U2', 'S2'), arrived(200, 'F1', 'U2')]);
    run.watermarkTo(1000);
    expect(fire(run)[0]!.tags).toEqual({ district: HLG, station: 'RS' });
  });

  it('a missed incident keeps its response time when the watermark jumps past the arrival and the close in one step', () => {
    // Two channels: `slow` holds the watermark back while the arrival and the close come
    // on `fast`; when `slow` catches up, the watermark jumps from 240 s to 640 s at once.
    const jump = new EngineRun();
    jump.feed([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1'), core.depth(300, 'P-slow', 1)], 'slow');
    jump.feed([arrived(400, 'F1', 'U1'), closed(500, 'F1', 'completed'), core.depth(700, 'P-fast', 1)], 'fast');
    expect(jump.engine.watermark).toBe(ms(240));
    jump.markIdle('slow');
    expect(jump.engine.watermark).toBe(ms(640));
    const steady = new EngineRun();
    steady.stream([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1'), core.depth(300, 'P-slow', 1), arrived(400, 'F1', 'U1'), closed(500, 'F1', 'completed'), core.depth(700, 'P-fast', 1)]);
    const expected = [{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1, rt_count: 1, rt_sum: 400, rt_le_400: 1 } }];
    expect(fire(jump)).toEqual(expected);
    expect(fire(steady)).toEqual(expected);
  });

  it('an arrival after the close does not count, in any order', () => {
    for (const order of [
      [received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1'), closed(400, 'F1', 'completed'), arrived(420, 'F1', 'U1')],
      [received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1'), arrived(420, 'F1', 'U1'), closed(400, 'F1', 'completed')],
    ]) {
      const run = new EngineRun();
      run.stream(order);
      run.watermarkTo(2000);
      expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'S1' }, fields: { missed: 1 } }]);
      expect(run.engine.stats().pendingIncidents).toBe(0);
    }
  });
});

describe('fire_response_coverage_5min: scope and attribution', () => {
  it('counts fire and rescue only, even when an out-of-scope call is the first event the engine sees', () => {
    const run = new EngineRun();
    for (const [i, category] of ['medical', 'hazmat', 'other'].entries()) {
      run.stream([received(i, `M${i}`, category, HLG), dispatched(i + 10, `M${i}`, 'U1', 'S1')]);
    }
    run.watermarkTo(3600);
    expect(run.rows).toEqual([]);
    expect(run.changes).toEqual([]);
    expect(run.engine.stats().pendingIncidents).toBe(0);
  });

  it('attributes an incident to the minute it was received, however late it is decided', () => {
    const run = new EngineRun();
    run.streamSorted([received(59, 'F1', 'fire', HLG), dispatched(61, 'F1', 'U1', 'S1'), arrived(100, 'F1', 'U1'), received(60, 'F2', 'fire', HLG), dispatched(70, 'F2', 'U2', 'S1')]);
    run.watermarkTo(3600);
    expect(fire(run).map((r) => [r.minute, r.fields.covered ?? 0, r.fields.missed ?? 0])).toEqual([
      [0, 1, 0],
      [1, 0, 1],
    ]);
    expect(run.kpi(COVERAGE, [], ms(0), ms(60))).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect(run.kpi(COVERAGE, [], ms(60), ms(120))).toMatchObject({ value: 0, numerator: 0, denominator: 1 });
  });

  it('groups by district and by station', () => {
    const run = new EngineRun();
    run.streamSorted([
      received(0, 'A', 'fire', HLG), dispatched(0, 'A', 'U1', 'S1'), arrived(100, 'A', 'U1'),
      received(0, 'B', 'fire', HLG), dispatched(0, 'B', 'U2', 'S2'), arrived(400, 'B', 'U2'),
      received(0, 'C', 'rescue', TTYN), dispatched(0, 'C', 'U3', 'S2'), arrived(200, 'C', 'U3'),
    ]);
    run.watermarkTo(3600);
    expect(run.kpi(COVERAGE, ['district']).groups).toEqual([
      { key: { district: HLG }, value: 0.5, numerator: 1, denominator: 2 },
      { key: { district: TTYN }, value: 1, numerator: 1, denominator: 1 },
    ]);
    expect(run.kpi(COVERAGE, ['station']).groups).toEqual([
      { key: { station: 'S1' }, value: 1, numerator: 1, denominator: 1 },
      { key: { station: 'S2' }, value: 0.5, numerator: 1, denominator: 2 },
    ]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: 2 / 3, numerator: 2, denominator: 3 });
  });
});

describe('fire_response_coverage_5min: pending incidents', () => {
  it('an incident never dispatched stays pending, and after 24 h is evicted and counted as unresolved', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG, { station: 'RS' })]);
    run.watermarkTo(86_400);
    expect(run.rows).toEqual([]);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 1, evictedUnresolvedIncidents: 0 });
    run.watermarkTo(86_400.001);
    expect(fire(run)).toEqual([{ minute: 0, tags: { district: HLG, station: 'RS' }, fields: { unresolved: 1 } }]);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 0, evictedUnresolvedIncidents: 1 });
    expect(run.kpi(COVERAGE)).toMatchObject({ value: null, numerator: 0, denominator: 0, unresolved: 1 });
  });

  it('counts the 24 h from the earliest event, not from the first delivered', () => {
    // Two dispatch orders and no call: a second `received` at another time would be a
    // conflict (a reused incident id), so the earliest event here is an order.
    const run = new EngineRun();
    run.stream([dispatched(100, 'F1', 'U1', 'S1', { id: 'd-late' }), dispatched(50, 'F1', 'U2', 'S1', { id: 'd-early' })]);
    run.watermarkTo(86_450);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 1, evictedUnresolvedIncidents: 0 });
    run.watermarkTo(86_450.001);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 0, evictedUnresolvedIncidents: 1 });
  });

  it('an incident closed without a dispatch is left out, not unresolved', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), closed(600, 'F1', 'false_alarm')]);
    run.watermarkTo(90_000);
    expect(run.rows).toEqual([]);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 0, evictedUnresolvedIncidents: 0 });
  });

  it('dispatch events whose `received` never came are evicted and counted, with no partial to attribute', () => {
    const run = new EngineRun();
    run.stream([dispatched(0, 'X1', 'U1', 'S1'), arrived(100, 'X1', 'U1')]);
    run.watermarkTo(90_000);
    expect(run.rows).toEqual([]);
    expect(run.engine.stats()).toMatchObject({ pendingIncidents: 0, evictedUnresolvedIncidents: 1 });
  });
});

describe('fire_response_time_p90', () => {
  it('is the nearest-rank 90th percentile of the 5-second histogram, overall and by group', () => {
    // The hand-computed fixture (tests/fixtures/fire-response-small.ts): 300, 301, 120, 60 s.
    const run = new EngineRun();
    run.streamSorted([
      received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1'), arrived(330, 'F1', 'U1'),
      received(60, 'F2', 'rescue', HLG), dispatched(80, 'F2', 'U2', 'S1'), arrived(381, 'F2', 'U2'),
      received(120, 'F3', 'fire', TTYN), dispatched(130, 'F3', 'U3', 'S2'), arrived(250, 'F3', 'U3'),
      received(480, 'F6', 'fire', HLG), dispatched(500, 'F6', 'U6', 'S3'), arrived(560, 'F6', 'U6'),
    ]);
    run.watermarkTo(3600);
    expect(run.kpi(P90)).toMatchObject({ value: 305, count: 4, meetsTarget: false, target: 300 });
    expect(run.kpi(P90, ['district']).groups).toEqual([
      { key: { district: HLG }, value: 305, count: 3 },
      { key: { district: TTYN }, value: 120, count: 1 },
    ]);
    expect(run.kpi(COVERAGE)).toMatchObject({ value: 0.75, numerator: 3, denominator: 4 });
  });

  it('has no value without arrivals', () => {
    const run = new EngineRun();
    expect(run.kpi(P90)).toMatchObject({ value: null, count: 0, meetsTarget: null });
  });
});

describe('catalogue entries', () => {
  it('describe the coverage ratio and the percentile', () => {
    expect(KPI_CATALOGUE).toContain(fireResponseCoverage);
    expect(KPI_CATALOGUE).toContain(fireResponseTimeP90);
    expect(fireResponseCoverage).toMatchObject({ kind: 'ratio', target: 0.8, targetDirection: 'atLeast', numerator: 'covered', denominator: ['covered', 'missed'], groupTags: ['district', 'station'] });
    expect(fireResponseTimeP90).toMatchObject({ kind: 'percentile', quantile: 0.9, target: 300, targetDirection: 'atMost' });
  });

  it('coverageValue and responseTimeP90 read merged fields', () => {
    expect(coverageValue({ covered: 3, missed: 1 })).toBe(0.75);
    expect(coverageValue({ unresolved: 2 })).toBeNull();
    expect(responseTimeP90({ rt_le_60: 9, rt_le_300: 1 })).toBe(60);
    expect(responseTimeP90({ rt_le_60: 8, rt_le_300: 2 })).toBe(300);
  });
});

describe('a reused incident id (issue 9)', () => {
  /** Five incidents, four covered, the fifth missed: 4/5. */
  function fiveIncidents(run: EngineRun) {
    const events = [];
    for (let k = 1; k <= 5; k++) {
      const t = k * 60;
      events.push(received(t, `F${k}`, 'fire', HLG, {}, { id: `r${k}` }), dispatched(t + 10, `F${k}`, `U${k}`, 'S1'), arrived(t + (k === 5 ? 400 : 200), `F${k}`, `U${k}`));
    }
    run.streamSorted(events);
  }

  it('a second `received` with another time and district is refused as `conflict`, naming what differs; the KPI keeps the first', () => {
    const run = new EngineRun();
    fiveIncidents(run);
    run.watermarkTo(1200);
    expect(run.kpi(COVERAGE)).toMatchObject({ numerator: 4, denominator: 5 });
    // F1 decided and done with; another call arrives under its id, hours later, elsewhere.
    const step = run.feed(received(7200, 'F1', 'fire', TTYN, {}, { id: 'r-again' }));
    expect(step.outcomes).toEqual(['conflict']);
    expect(step.conflicts).toEqual([
      {
        index: 0,
        reason: `conflict: incident "F1" was already received; this one differs in time ${formatInZone(ms(7200), 'Asia/Shanghai')} (counted: ${formatInZone(ms(60), 'Asia/Shanghai')}), district "${TTYN}" (counted: "${HLG}")`,
      },
    ]);
    expect(run.engine.stats()).toMatchObject({ conflicts: 1, accepted: 16 });
    run.stream([dispatched(7210, 'F1', 'U9', 'S2'), arrived(7300, 'F1', 'U9')]);
    run.watermarkTo(9000);
    expect(run.kpi(COVERAGE)).toMatchObject({ numerator: 4, denominator: 5 });
  });

  it('while the first is still open, an earlier `received` under its id no longer moves it', () => {
    const run = new EngineRun();
    run.stream([received(600, 'F1', 'fire', HLG), dispatched(610, 'F1', 'U1', 'S1')]);
    const step = run.feed(received(590, 'F1', 'rescue', HLG, { station: 'RS' }, { id: 'r-other' }));
    expect(step.outcomes).toEqual(['conflict']);
    expect(step.conflicts[0]!.reason).toMatch(/differs in time .*, category rescue \(counted: fire\), station "RS" \(counted: null\)$/);
    run.stream([arrived(800, 'F1', 'U1')]);
    run.watermarkTo(2000);
    expect(fire(run)).toEqual([{ minute: 10, tags: { district: HLG, station: 'S1' }, fields: { covered: 1, rt_count: 1, rt_sum: 190, rt_le_190: 1 } }]);
  });

  it('an identical repeat under a new event id is accepted and changes nothing, before and after the incident is done', () => {
    const run = new EngineRun();
    fiveIncidents(run);
    expect(run.stream([received(650, 'F6', 'fire', HLG, {}, { id: 'r6' }), received(650, 'F6', 'fire', HLG, {}, { id: 'r6-again' })])).toEqual(['accepted', 'accepted']);
    expect(run.stream([received(655, 'F6', 'fire', HLG, {}, { id: 'r6-later' })])).toEqual(['conflict']);
    // A medical call is out of scope and done with at once; its repeat is still recognised.
    expect(run.stream([received(650, 'M1', 'medical', HLG), received(650, 'M1', 'medical', HLG, {}, { id: 'm1-again' })])).toEqual(['accepted', 'accepted']);
    expect(run.stream([received(650, 'M1', 'medical', TTYN, {}, { id: 'm1-elsewhere' })])).toEqual(['conflict']);
    run.watermarkTo(1200);
    expect(run.kpi(COVERAGE)).toMatchObject({ numerator: 4, denominator: 5 });
    expect(run.engine.stats()).toMatchObject({ conflicts: 2, pendingIncidents: 1 });
  });

  it('a conflict is found after a snapshot and restore too', () => {
    const run = new EngineRun();
    fiveIncidents(run);
    run.watermarkTo(1200);
    const restored = Engine.restore(run.config, JSON.parse(JSON.stringify(run.engine.snapshot())));
    const step = restored.ingest([received(7200, 'F2', 'fire', HLG, {}, { id: 'r-again' })], 'c', 0);
    expect(step.outcomes).toEqual(['conflict']);
  });
});
