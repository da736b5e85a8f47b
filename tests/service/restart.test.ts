/**
 * Durability: a restart on the same data directory keeps every alert (with its history),
 * KPI answer and dead letter; a crash — the SQLite files copied while the service is
 * running, never stopped — recovers the same engine state from snapshot + log replay,
 * and continuing on the recovered copy gives what the uninterrupted service gives.
 */
import { copyFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DB_FILE, openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { beijing, FIRE_FIXTURE, HAND_COMPUTED } from '../fixtures/fire-response-small.js';
import { HLG, TTYN, waterlogging } from '../helpers/events.js';
import { get, ManualClock, post, postEvents, q, startTestService, tempDir, useServiceCleanup, type TestService } from '../helpers/service.js';

useServiceCleanup();

const RANGE = `from=${q(beijing('07:00'))}&to=${q(beijing('10:00'))}`;
const KPIS: Array<[string, string]> = [
  ['fire_response_coverage_5min', 'district'],
  ['fire_response_time_p90', 'station'],
  ['alert_ack_seconds_mean', 'category'],
  ['waterlogging_max_depth_cm', 'point'],
  ['waterlogging_points_over_threshold', 'district'],
];

/** Everything a client (and the operators' screens) can see, plus the engine's own stats. */
async function observable(ts: TestService) {
  const app = ts.app;
  const alerts = (await get(app, '/v1/alerts?limit=500')).json;
  const details = [];
  for (const a of alerts.items as Array<{ id: string }>) details.push((await get(app, `/v1/alerts/${a.id}`)).json);
  const kpis: Record<string, unknown> = {};
  for (const [name, groupBy] of KPIS) kpis[name] = (await get(app, `/v1/kpis/${name}?${RANGE}&groupBy=${groupBy}`)).json;
  const series = (await get(app, `/v1/kpis/fire_response_coverage_5min/series?${RANGE}&step=5m&window=1h`)).json;
  return {
    alerts,
    details,
    kpis,
    series,
    deadLetters: (await get(app, '/v1/dead-letters?limit=500')).json,
    feed: ts.service.store.alertEventsAfter(0, 100_000).map((e) => [e.seq, e.action, e.alert.id, e.alert.status, e.alert.severity]),
    stats: ts.service.pipeline.engine.stats(),
  };
}

const fixture = () => readFileSync(FIRE_FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
const timeOf = (line: string) => Date.parse((JSON.parse(line) as { time: string }).time);

/** Copies the SQLite files of a running service, then its snapshot files, as a crash would leave them. */
function copyDataDir(from: string): string {
  const to = tempDir('huitian-crash-');
  for (const suffix of ['', '-wal', '-shm']) {
    const file = join(from, `${DB_FILE}${suffix}`);
    if (existsSync(file)) copyFileSync(file, join(to, `${DB_FILE}${suffix}`));
  }
  if (existsSync(join(from, 'snapshots'))) cpSync(join(from, 'snapshots'), join(to, 'snapshots'), { recursive: true });
  return to;
}

describe('restart on the same data directory', () => {
  it('keeps alerts with their history, KPI answers, dead letters and the engine state', async () => {
    const dataDir = tempDir();
    const a = await startTestService({ dataDir });
    await postEvents(a.app, [
      ...fixture(), // up to 08:30:00
      waterlogging('w1', 1800, 'P1', 30, HLG),
      waterlogging('w2', 1860, 'P2', 45, TTYN),
      waterlogging('bad', 1870, 'P3', -4, HLG),
      'not json',
      waterlogging('w3', 2400, 'P4', 0, HLG),
    ]);
    const p2 = (await get(a.app, '/v1/alerts?entityId=P2')).json.items[0].id as string;
    const p1 = (await get(a.app, '/v1/alerts?entityId=P1')).json.items[0].id as string;
    expect((await post(a.app, `/v1/alerts/${p2}/ack`, { body: { by: '张伟', note: '已派排水车' } })).status).toBe(200);
    expect((await post(a.app, `/v1/alerts/${p1}/resolve`, { body: { by: '李娜' } })).status).toBe(200);
    const before = await observable(a);
    expect(before.kpis.fire_response_coverage_5min).toMatchObject({ value: HAND_COMPUTED.coverage });
    expect(before.alerts.items.map((x: { entityId: string; status: string }) => [x.entityId, x.status])).toEqual([
      ['P2', 'acknowledged'],
      ['P1', 'resolved'],
      ['F7', 'resolved'],
      // F2's unit arrived at 301 s: overdue from 300 s, resolved by the arrival.
      ['F2', 'resolved'],
    ]);
    expect((before.kpis.waterlogging_max_depth_cm as { max: number }).max).toBe(45);
    expect(before.deadLetters.items).toHaveLength(2);
    await a.stop();

    const b = await startTestService({ dataDir });
    expect(await observable(b)).toEqual(before);
    // The engine remembers too: a repeat is a duplicate, the acknowledged alert stays so.
    expect((await postEvents(b.app, [waterlogging('w2', 1860, 'P2', 45, TTYN)])).json).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post(b.app, `/v1/alerts/${p2}/ack`, { body: { by: '张伟' } })).json.error.code).toBe('ALERT_TRANSITION_NOT_ALLOWED');
    const resolved = await post(b.app, `/v1/alerts/${p2}/resolve`, { body: { by: '张伟' } });
    expect(resolved.json.history.map((h: { action: string }) => h.action)).toEqual(['opened', 'acknowledged', 'resolved']);
  });

  it('opens the SQLite file anew: a second store on the same file reads what the service wrote', async () => {
    const dataDir = tempDir();
    const a = await startTestService({ dataDir });
    await postEvents(a.app, fixture());
    const before = await observable(a);
    await a.stop();
    const store = new EmbeddedStore(openDatabase(dataDir));
    try {
      expect(store.listAlerts({ limit: 500 }).items.map((x) => x.id)).toEqual(before.alerts.items.map((x: { id: string }) => x.id));
      expect(store.lastAlertEventSeq()).toBe(before.feed.length);
      // A graceful stop leaves a snapshot and no log to replay.
      const recovery = store.recovery();
      expect(recovery.snapshot).not.toBeNull();
      expect([...recovery.log]).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('crash and recovery', () => {
  it('replays every input logged after the snapshot, though the log numbers restart after it', () => {
    const store = new EmbeddedStore(openDatabase(tempDir()));
    try {
      const unit = (now: number) => ({ log: { kind: 'tick' as const, now }, partials: [], alerts: [], deadLetters: [] });
      for (const now of [1, 2, 3, 4, 5]) store.commit(unit(now));
      store.writeSnapshot(JSON.stringify({ version: 1, at: 5 }), 5);
      for (const now of [6, 7]) store.commit(unit(now));
      const recovery = store.recovery();
      expect(recovery.snapshot).toEqual({ version: 1, at: 5 });
      expect([...recovery.log].map((e) => e.entry)).toEqual([
        { kind: 'tick', now: 6 },
        { kind: 'tick', now: 7 },
      ]);
    } finally {
      store.close();
    }
  });

  it('recovers the same state from snapshot + log replay, and continues exactly as the uninterrupted service', async () => {
    // Live mode, fed as a live stream: each event in its own request two seconds after its
    // event time, a snapshot at most every 120 s of wall time.
    const env = { HUITIAN_TIME_MODE: 'live', HUITIAN_SNAPSHOT_INTERVAL_S: '120' };
    const lines = [
      ...fixture(),
      JSON.stringify(waterlogging('w1', 30, 'P1', 30, HLG)),
      JSON.stringify(waterlogging('w2', 200, 'P1', 12, HLG)),
      JSON.stringify(waterlogging('w3', 420, 'P2', 50, TTYN)),
      JSON.stringify(waterlogging('w4', 900, 'P2', 8, TTYN)),
    ].sort((x, y) => timeOf(x) - timeOf(y));
    const crashAfter = lines.findIndex((l) => timeOf(l) >= Date.parse(beijing('08:08'))); // F6 received: F6, F7 still open
    expect(crashAfter).toBeGreaterThan(10);

    const clockA = new ManualClock(timeOf(lines[0]!));
    const a = await startTestService({ env, clock: clockA });
    // Each checkpoint is written before the next input: one still being written makes a due
    // one wait for a later input, so which inputs a snapshot covers would depend on how fast
    // the machine writes (under a loaded run the last one could cover every input, leaving
    // nothing to replay). Waiting keeps the snapshots where the manual clock puts them.
    const feed = async (ts: TestService, clock: ManualClock, line: string) => {
      clock.ms = Math.max(clock.ms, timeOf(line) + 2000);
      const r = await postEvents(ts.app, [line]);
      expect(r.status, r.body).toBe(202);
      while (ts.service.pipeline.checkpointStats().inProgress) await new Promise((r) => setImmediate(r));
    };
    for (const line of lines.slice(0, crashAfter)) await feed(a, clockA, line);
    // An operator acts before the crash, and a bad record arrives.
    const p2 = (await get(a.app, '/v1/alerts?entityId=P2')).json.items[0].id as string;
    const p1 = (await get(a.app, '/v1/alerts?entityId=P1')).json.items[0].id as string;
    expect((await post(a.app, `/v1/alerts/${p2}/ack`, { body: { by: '张伟', note: '已派排水车' } })).status).toBe(200);
    expect((await postEvents(a.app, [waterlogging('bad', 470, 'P9', -1)])).status).toBe(400);

    // Checkpoints are written over later event-loop turns: the crash comes after the last one.
    while (a.service.pipeline.checkpointStats().inProgress) await new Promise((r) => setImmediate(r));
    const crashed = copyDataDir(a.dataDir);
    const atCrash = await observable(a);
    expect(atCrash.stats.pendingIncidents).toBeGreaterThan(0);
    expect(atCrash.stats.activeAlerts).toBeGreaterThan(0);

    // What a restart finds: a snapshot, and inputs logged after it.
    const probe = new EmbeddedStore(openDatabase(crashed));
    const recovery = probe.recovery();
    const replayable = [...recovery.log].length;
    probe.close();
    expect(recovery.snapshot).not.toBeNull();
    expect(replayable).toBeGreaterThan(0);

    const clockB = new ManualClock(clockA.ms);
    const b = await startTestService({ env, clock: clockB, dataDir: crashed });
    expect(await observable(b)).toEqual(atCrash);

    // Both go on with the same input at the same wall times: the rest of the stream, an
    // operator's resolve, and quiet time that lets the watermark pass the last deadlines.
    for (const line of lines.slice(crashAfter)) {
      await feed(a, clockA, line);
      await feed(b, clockB, line);
    }
    for (const [ts, clock] of [
      [a, clockA],
      [b, clockB],
    ] as const) {
      // P1 is still open at 12 cm (not below the 10 cm clear level); P2 was cleared by its 8 cm reading.
      expect((await post(ts.app, `/v1/alerts/${p1}/resolve`, { body: { by: '李娜' } })).status).toBe(200);
      clock.advance(3_600_000);
      ts.service.pipeline.tick();
    }
    const finalA = await observable(a);
    expect(await observable(b)).toEqual(finalA);
    expect(finalA.kpis.fire_response_coverage_5min).toMatchObject({
      value: HAND_COMPUTED.coverage,
      numerator: HAND_COMPUTED.covered,
      denominator: HAND_COMPUTED.covered + HAND_COMPUTED.missed,
      groups: HAND_COMPUTED.byDistrict,
    });
    expect(finalA.kpis.fire_response_time_p90).toMatchObject({ value: HAND_COMPUTED.p90Seconds });
    // The hour of quiet also let both notice the silent sensors (live mode).
    expect(finalA.alerts.items.map((x: { rule: string; entityId: string; status: string }) => [x.rule, x.entityId, x.status]).sort()).toEqual([
      ['dispatch_overdue', 'F2', 'resolved'],
      ['dispatch_overdue', 'F7', 'resolved'],
      ['sensor_silence', 'P1', 'open'],
      ['sensor_silence', 'P2', 'open'],
      ['waterlogging_depth', 'P1', 'resolved'],
      ['waterlogging_depth', 'P2', 'resolved'],
    ]);
  });

  it('recovers from the log alone when no snapshot was taken yet', async () => {
    const env = { HUITIAN_SNAPSHOT_INTERVAL_S: '3600' };
    const a = await startTestService({ env });
    const lines = fixture();
    await postEvents(a.app, lines.slice(0, 10));
    await postEvents(a.app, lines.slice(10, 15));
    const crashed = copyDataDir(a.dataDir);
    const probe = new EmbeddedStore(openDatabase(crashed));
    const recovery = probe.recovery();
    expect([recovery.snapshot, [...recovery.log].length]).toEqual([null, 2]);
    probe.close();

    const b = await startTestService({ env, dataDir: crashed });
    expect(await observable(b)).toEqual(await observable(a));
    await postEvents(a.app, lines.slice(15));
    await postEvents(b.app, lines.slice(15));
    expect(await observable(b)).toEqual(await observable(a));
    expect((await observable(b)).kpis.fire_response_coverage_5min).toMatchObject({ value: HAND_COMPUTED.coverage });
  });
});
