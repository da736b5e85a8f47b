/**
 * The event-time engine (DESIGN §3, issue 2): outcomes per event, lateness, duplicates,
 * out-of-order arrival, channels, the live-mode idle advance, snapshots and merging.
 */
import { describe, expect, it } from 'vitest';
import { DISPATCH_OVERDUE_RULE } from '../../src/alerts/dispatch-overdue.js';
import { Engine, SNAPSHOT_VERSION } from '../../src/engine/engine.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { evaluateKpi } from '../../src/kpis/query.js';
import { core, HLG, ms, TTYN } from '../helpers/events.js';
import { ALL_TIME, engineConfig, EngineRun } from '../helpers/engine-run.js';
import { allKpis, entityHalf, mergedRows } from '../helpers/stream.js';

const { depth, received, dispatched, arrived } = core;
const W = ms(0); // live tests: the wall clock starts where the events do

describe('lateness', () => {
  it('refuses an event older than the watermark as `late`, counted, changing nothing; the watermark itself is on time', () => {
    const run = new EngineRun();
    run.stream([depth(100, 'P1', 20)]); // watermark 40 s
    const step = run.feed([depth(39.999, 'P1', 50), depth(40, 'P2', 16), depth(39, 'P3', 30)]);
    expect(step.outcomes).toEqual(['late', 'accepted', 'late']);
    expect(run.transitions()).toEqual([
      ['opened', 'waterlogging_depth', 'P1', 'yellow', 'open'],
      ['opened', 'waterlogging_depth', 'P2', 'yellow', 'open'],
    ]);
    run.watermarkTo(120);
    expect(run.family('waterlogging').filter((r) => r.tags.point === 'P3')).toEqual([]);
    expect(run.family('waterlogging').filter((r) => r.tags.point === 'P1').map((r) => [r.minute, r.fields.max_depth_cm])).toEqual([[1, 20]]);
    expect(run.engine.stats()).toMatchObject({ accepted: 3, late: 2, duplicates: 0 });
  });

  it('uses the configured lateness', () => {
    const run = new EngineRun(engineConfig({ latenessMs: 300_000 }));
    expect(run.stream([depth(400, 'P1', 1), depth(100, 'P1', 1), depth(99.999, 'P1', 1)])).toEqual(['accepted', 'accepted', 'late']);
  });

  it('a batch is processed event by event: a later event in the same batch can make an earlier-listed one late', () => {
    const run = new EngineRun();
    expect(run.feed([depth(200, 'P1', 1), depth(100, 'P1', 1), depth(150, 'P1', 1)]).outcomes).toEqual(['accepted', 'late', 'accepted']);
  });
});

describe('duplicates', () => {
  it('same source and id: `duplicate`, counted, and nothing changes even if the content differs', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 5, {}, { id: 'wl-1', source: '/sensors/a' })]);
    const step = run.feed(depth(10, 'P1', 45, {}, { id: 'wl-1', source: '/sensors/a' }));
    expect(step.outcomes).toEqual(['duplicate']);
    expect(step.alerts).toEqual([]);
    run.watermarkTo(120);
    expect(run.family('waterlogging').map((r) => r.fields.max_depth_cm)).toEqual([5, 5]);
    expect(run.engine.stats()).toMatchObject({ accepted: 2, duplicates: 1 });
  });

  it('within one batch too', () => {
    const run = new EngineRun();
    expect(run.feed([depth(0, 'P1', 5, {}, { id: 'x' }), depth(0, 'P1', 5, {}, { id: 'x' })]).outcomes).toEqual(['accepted', 'duplicate']);
  });

  it('the same id from another source is a different event', () => {
    const run = new EngineRun();
    expect(run.stream([depth(0, 'P1', 5, {}, { id: 'e-1', source: '/sensors/a' }), depth(1, 'P2', 20, {}, { id: 'e-1', source: '/sensors/b' })])).toEqual(['accepted', 'accepted']);
    expect(run.transitions()).toEqual([['opened', 'waterlogging_depth', 'P2', 'yellow', 'open']]);
  });

  it('a repeat older than the dedup retention is refused as late, never counted twice', () => {
    const run = new EngineRun(engineConfig({ dedupRetentionMs: 120_000 }));
    run.stream([depth(0, 'P1', 5, {}, { id: 'old' })]);
    run.watermarkTo(600);
    expect(run.engine.stats().dedupKeys).toBe(1); // the clock event's key
    expect(run.feed(depth(0, 'P1', 5, {}, { id: 'old' })).outcomes).toEqual(['late']);
  });
});

describe('out-of-order arrival within the lateness', () => {
  it('gives the same KPIs as in-order arrival', () => {
    const events = [
      received(0, 'F1', 'fire', HLG), dispatched(20, 'F1', 'U1', 'S1'), depth(30, 'P1', 12, { district: HLG }),
      depth(50, 'P1', 18, { district: HLG }), core.lot(55, 'L1', 96, 100), arrived(240, 'F1', 'U1'), depth(250, 'P1', 3, { district: HLG }),
    ];
    const inOrder = new EngineRun();
    inOrder.stream(events);
    inOrder.watermarkTo(900);
    const shuffled = new EngineRun();
    expect(shuffled.stream([events[1]!, events[0]!, events[4]!, events[3]!, events[2]!, events[6]!, events[5]!])).toEqual(Array(7).fill('accepted'));
    shuffled.watermarkTo(900);
    for (const def of KPI_CATALOGUE) {
      expect(evaluateKpi(def, shuffled.rows, ...ALL_TIME, def.groupTags), def.name).toEqual(evaluateKpi(def, inOrder.rows, ...ALL_TIME, def.groupTags));
    }
    expect(inOrder.kpi('fire_response_coverage_5min')).toMatchObject({ value: 1, numerator: 1 });
    expect(inOrder.kpi('waterlogging_max_depth_cm')).toMatchObject({ max: 18 });
  });
});

describe('channels', () => {
  it('the slowest active channel holds the watermark; markIdle and removeChannel release it', () => {
    const run = new EngineRun();
    run.feed(depth(100, 'P2', 1), 'p1');
    run.feed(depth(600, 'P1', 1), 'p0');
    expect(run.engine.watermark).toBe(ms(40));
    // p1 may still deliver anything from 40 s on.
    expect(run.feed(depth(50, 'P2', 1), 'p1').outcomes).toEqual(['accepted']);
    run.markIdle('p1');
    expect(run.engine.watermark).toBe(ms(540));
    const other = new EngineRun();
    other.feed(depth(100, 'P2', 1), 'p1');
    other.feed(depth(600, 'P1', 1), 'p0');
    expect(other.engine.removeChannel('p1', 0).watermark).toBe(ms(540));
  });

  it('a channel that appears later does not move the watermark back', () => {
    const run = new EngineRun();
    run.feed(depth(600, 'P1', 1), 'p0');
    run.feed(depth(560, 'P2', 1), 'p1');
    expect(run.engine.watermark).toBe(ms(540));
    expect(run.feed(depth(539, 'P2', 1), 'p1').outcomes).toEqual(['late']);
  });

  it('ingest(…, channelIdleAfter) marks the channel idle after the batch', () => {
    const run = new EngineRun();
    run.feed(depth(600, 'P1', 1), 'p0');
    run.feed(depth(100, 'P2', 1), 'p1', true);
    expect(run.engine.watermark).toBe(ms(540));
  });
});

describe('time passing without events', () => {
  it('live: tick(now) advances the watermark with the wall clock, so the overdue alert fires one lateness after the deadline', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live' }));
    run.now = W; // the dispatch order arrives as it happens
    run.feed([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')], 'http', true);
    // Deadline: event time 330 s, i.e. wall W + 300 s. The watermark runs 60 s behind.
    run.tick(W + 300_000);
    expect(run.engine.watermark).toBe(ms(270));
    run.tick(W + 360_000);
    expect(run.changes).toEqual([]);
    run.tick(W + 360_001);
    expect(run.transitions()).toEqual([['opened', DISPATCH_OVERDUE_RULE, 'F1', 'orange', 'open']]);
    expect(run.changes[0]!.alert.openedAt).toBe(ms(330));
  });

  it('live: a channel not marked idle stops holding time once silent for the idle timeout', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live', idleTimeoutMs: 5_000 }));
    run.now = W;
    run.feed([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')], 'kafka-0');
    run.tick(W + 4_999);
    expect(run.engine.watermark).toBe(ms(-30));
    run.tick(W + 360_001);
    expect(run.transitions()).toEqual([['opened', DISPATCH_OVERDUE_RULE, 'F1', 'orange', 'open']]);
  });

  it('replay: tick never advances the watermark', () => {
    const run = new EngineRun();
    run.feed([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')], 'file', true);
    for (const now of [0, 60_000, 3_600_000, 10 * 86_400_000]) expect(run.tick(now).watermark).toBe(ms(-30));
    expect(run.changes).toEqual([]);
  });

  it('live: refuses an event stamped further ahead of the wall clock than allowed, as `future`', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live', maxFutureMs: 600_000 }));
    run.now = W;
    expect(run.feed([depth(600, 'P1', 1), depth(600.001, 'P1', 1)]).outcomes).toEqual(['accepted', 'future']);
    expect(run.engine.stats().future).toBe(1);
  });

  it('replay: refuses an event stamped further ahead of the newest event time than allowed, as `future`, and time does not move', () => {
    const run = new EngineRun(engineConfig({ maxFutureMs: 600_000 }));
    // The stream's first event has nothing to be compared with.
    expect(run.feed([depth(0, 'P1', 1), depth(600, 'P1', 1), depth(1200.001, 'P1', 1), depth(365 * 86_400, 'P2', 1)]).outcomes).toEqual([
      'accepted',
      'accepted',
      'future',
      'future',
    ]);
    expect(run.engine.stats()).toMatchObject({ future: 2, maxEventTime: ms(600), watermark: ms(540) });
    // The honest events after it are not late, and one on another channel is judged alike.
    expect(run.feed([depth(590, 'P1', 1), depth(1200, 'P1', 1)]).outcomes).toEqual(['accepted', 'accepted']);
    expect(run.feed([depth(1800, 'P3', 1), depth(2400.001, 'P3', 1)], 'other').outcomes).toEqual(['accepted', 'future']);
  });

  it('a jump across a long quiet gap samples only its last part, and counts the rest', () => {
    const run = new EngineRun(engineConfig({ maxGapMinutes: 10 }));
    run.stream([depth(0, 'P1', 20)]);
    run.watermarkTo(3600);
    const minutes = run.family('waterlogging').map((r) => r.minute);
    expect(minutes).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    // Sampling started at the first watermark's minute (−1), so minutes −1 … 49 are skipped.
    expect(run.engine.stats().gaugeMinutesSkipped).toBe(51);
  });
});

describe('operators and the stream clock', () => {
  it('resolve() closes an alert by hand, stamped with the stream clock', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 30), depth(90, 'P2', 1)]);
    const id = run.lastAlert('waterlogging_depth', 'P1')!.id;
    expect(run.engine.activeAlert(id)?.severity).toBe('orange');
    const r = run.resolve(id, '王工', '传感器故障');
    expect(r.ok && r.alert).toMatchObject({ status: 'resolved', resolvedAt: ms(90) });
    expect(run.engine.activeAlert(id)).toBeUndefined();
    expect(run.engine.clock(0)).toBe(ms(90));
  });

  it('stats() reports the engine’s state', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 30), core.lot(10, 'L1', 1, 10), received(20, 'F1', 'fire', HLG)]);
    expect(run.engine.stats()).toEqual({
      accepted: 3,
      duplicates: 0,
      late: 0,
      future: 0,
      conflicts: 0,
      gaugeMinutesSkipped: 0,
      watermark: ms(-40),
      maxEventTime: ms(20),
      activeAlerts: 1,
      pendingIncidents: 1,
      evictedUnresolvedIncidents: 0,
      waterloggingPoints: 1,
      parkingLots: 1,
      dedupKeys: 3,
      dedupBytes: expect.any(Number),
      dedupEvictedKeys: 0,
      lateBelowDedupFloor: 0,
      timers: 1,
    });
  });
});

describe('snapshot and restore', () => {
  it('continues after a JSON round trip exactly as an uninterrupted engine', () => {
    const events = [received(0, 'F1', 'fire', HLG), dispatched(10, 'F1', 'U1', 'S1'), depth(20, 'P1', 28), core.lot(25, 'L1', 99, 100), depth(90, 'P1', 41), arrived(320, 'F1', 'U1'), depth(400, 'P1', 2)];
    const whole = new EngineRun();
    whole.stream(events);
    whole.watermarkTo(1200);
    const first = new EngineRun();
    first.stream(events.slice(0, 3));
    const resumed = new EngineRun();
    resumed.engine = Engine.restore(resumed.config, JSON.parse(JSON.stringify(first.engine.snapshot())));
    resumed.stream(events.slice(3));
    resumed.watermarkTo(1200);
    expect([...first.rows, ...resumed.rows]).toEqual(whole.rows);
    expect([...first.changes, ...resumed.changes]).toEqual(whole.changes);
    expect(resumed.engine.stats()).toEqual(whole.engine.stats());
  });

  it('refuses a snapshot of another version', () => {
    expect(() => Engine.restore(engineConfig(), { version: SNAPSHOT_VERSION + 1 })).toThrow(`engine snapshot version ${SNAPSHOT_VERSION + 1} is not ${SNAPSHOT_VERSION}`);
  });
});

describe('merging partials across engines', () => {
  it('two engines fed disjoint halves (by entity) add up to one engine fed everything', () => {
    const events = [
      received(0, 'F1', 'fire', HLG), received(5, 'F2', 'rescue', TTYN), received(8, 'F3', 'fire', HLG),
      dispatched(10, 'F1', 'U1', 'S1'), dispatched(12, 'F2', 'U2', 'S2'), dispatched(14, 'F3', 'U3', 'S1'),
      depth(20, 'P1', 18, { district: HLG }), depth(25, 'P2', 31, { district: TTYN }), core.lot(30, 'L1', 90, 100), core.lot(31, 'L2', 40, 50),
      core.alarm(40, 'W-1', 'LEAK', 'raised'), core.alarm(45, 'E-2', 'OVERLOAD', 'raised', { network: 'power' }),
      arrived(200, 'F1', 'U1'), arrived(330, 'F3', 'U3'), depth(260, 'P1', 9, { district: HLG }),
    ].sort((a, b) => a.time - b.time);
    const halves = [0, 1].map((h) => events.filter((e) => entityHalf(e) === h));
    expect(halves[0]!.length).toBeGreaterThan(0);
    expect(halves[1]!.length).toBeGreaterThan(0);
    const live = engineConfig({ timeMode: 'live' });
    const feed = (list: typeof events) => {
      const run = new EngineRun(live);
      run.now = ms(3600);
      run.stream(list);
      run.tick(ms(3600) + 26 * 3_600_000);
      return run;
    };
    const whole = feed(events);
    const parts = halves.map(feed);
    const merged = [...mergedRows([...parts[0]!.rows, ...parts[1]!.rows]).values()];
    expect(allKpis(merged)).toEqual(allKpis([...mergedRows(whole.rows).values()]));
    expect(whole.kpi('fire_response_coverage_5min')).toMatchObject({ numerator: 1, denominator: 3 });
  });
});
