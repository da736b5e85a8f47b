/**
 * GET /v1/kpis (the catalogue), GET /v1/kpis/:name (ratio, percentile, gauge and mean
 * answers over [from, to), grouped or not) and GET /v1/kpis/:name/series.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { beijing, FIRE_FIXTURE, HAND_COMPUTED } from '../fixtures/fire-response-small.js';
import { cloudEvent, HLG, HY, TTYN, utilityAlarm, waterlogging, parking, T0 } from '../helpers/events.js';
import { expectError, get, post, postEvents, q, startTestService, tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const fixtureLines = () => readFileSync(FIRE_FIXTURE, 'utf8').split('\n').filter((l) => l !== '');

async function fireService(env: Record<string, string> = {}) {
  const ts = await startTestService({ env });
  const r = await postEvents(ts.app, fixtureLines());
  expect(r.json).toEqual({ accepted: 21, duplicates: 0, rejected: 0, errors: [] });
  return ts;
}

async function kpi(app: FastifyInstance, name: string, query: string) {
  const r = await get(app, `/v1/kpis/${name}?${query}`);
  expect(r.status, r.body).toBe(200);
  return r.json;
}

const range = (from: string, to: string) => `from=${q(beijing(from))}&to=${q(beijing(to))}`;
const MORNING = range('08:00', '09:00');

describe('GET /v1/kpis', () => {
  it('lists the catalogue with titles in Chinese and English, unit, target, kind and group tags', async () => {
    const { app } = await startTestService();
    const r = await get(app, '/v1/kpis');
    expect(r.status).toBe(200);
    const items = r.json.items as Array<Record<string, unknown>>;
    expect(items.map((k) => [k.name, k.kind, k.unit, k.target, k.targetDirection, k.groupTags])).toEqual([
      ['fire_response_coverage_5min', 'ratio', 'ratio', 0.8, 'atLeast', ['district', 'station']],
      ['fire_response_time_p90', 'percentile', 's', 300, 'atMost', ['district', 'station']],
      ['waterlogging_points_over_threshold', 'gauge', 'points', 0, 'atMost', ['district', 'point']],
      ['waterlogging_max_depth_cm', 'gauge', 'cm', 15, 'below', ['district', 'point']],
      ['parking_occupancy_rate', 'gauge', 'ratio', 0.85, 'atMost', ['district', 'lot']],
      ['utility_active_alarms', 'gauge', 'alarms', 0, 'atMost', ['network', 'district']],
      ['alert_ack_seconds_mean', 'mean', 's', null, null, ['category']],
    ]);
    for (const k of items) {
      // A target, or the reason there is none, always in both languages.
      expect(k.targetBasis as string).toMatch(/[\u4e00-\u9fff]/);
      expect((k.targetBasisEn as string).length).toBeGreaterThan(20);
      expect(k).not.toHaveProperty('targetOf');
      expect(typeof k.title).toBe('string');
      expect(k.title as string).toMatch(/[\u4e00-\u9fff]/);
      expect(typeof k.titleEn).toBe('string');
      expect(k.titleEn as string).toMatch(/^[\x20-\x7e]+$/);
      expect(k.clockStart).toBe(String(k.name).startsWith('fire_') ? 'dispatched' : undefined);
      expect(k.aggregates).toEqual(k.kind === 'gauge' ? ['last', 'max', 'mean'] : undefined);
    }
    expect(items[0]).toMatchObject({ title: '消防救援 5 分钟响应时间覆盖率', titleEn: 'Fire and rescue 5-minute response coverage' });
  });

  it('follows the configured rules where a target is a rule’s threshold', async () => {
    const dir = tempDir();
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: { waterlogging: { yellowCm: 20, orangeCm: 30, redCm: 45 }, kpiBreach: { target: 0.9 } } }));
    const { app } = await startTestService({ env: { HUITIAN_CONFIG: file } });
    const items = (await get(app, '/v1/kpis')).json.items as Array<{ name: string; target: number }>;
    expect(Object.fromEntries(items.map((k) => [k.name, k.target]))).toMatchObject({ waterlogging_max_depth_cm: 20, fire_response_coverage_5min: 0.9 });
    await postEvents(app, [waterlogging('t1', 0, 'P1', 18, HLG), waterlogging('t2', 120, 'P1', 18, HLG)]);
    // 18 cm is below a 20 cm yellow level: the deepest-water target is met.
    expect(await kpi(app, 'waterlogging_max_depth_cm', MORNING)).toMatchObject({ value: 18, target: 20, meetsTarget: true });
  });

  it('names the configured clock start of the fire KPIs', async () => {
    const { app } = await startTestService({ env: { HUITIAN_FIRE_CLOCK_START: 'received' } });
    const items = (await get(app, '/v1/kpis')).json.items as Array<{ name: string; clockStart?: string }>;
    expect(items.filter((k) => k.clockStart !== undefined).map((k) => [k.name, k.clockStart])).toEqual([
      ['fire_response_coverage_5min', 'received'],
      ['fire_response_time_p90', 'received'],
    ]);
  });
});

describe('GET /v1/kpis/:name', () => {
  it('answers a ratio with numerator, denominator, target and groups (the fixture computed by hand)', async () => {
    const { app } = await fireService();
    const all = await kpi(app, 'fire_response_coverage_5min', MORNING);
    expect(all).toEqual({
      name: 'fire_response_coverage_5min',
      kind: 'ratio',
      unit: 'ratio',
      from: beijing('08:00'),
      to: beijing('09:00'),
      target: 0.8,
      value: HAND_COMPUTED.coverage,
      numerator: HAND_COMPUTED.covered,
      denominator: HAND_COMPUTED.covered + HAND_COMPUTED.missed,
      meetsTarget: false,
      groups: [],
    });
    const byDistrict = await kpi(app, 'fire_response_coverage_5min', `${MORNING}&groupBy=district`);
    expect(byDistrict.value).toBe(0.6);
    expect(byDistrict.groups).toEqual(HAND_COMPUTED.byDistrict);
    const byStation = await kpi(app, 'fire_response_coverage_5min', `${MORNING}&groupBy=station`);
    expect(byStation.groups).toEqual([
      { key: { station: '回龙观消防站' }, value: 0.5, numerator: 1, denominator: 2 },
      { key: { station: '天通苑消防站' }, value: 0.5, numerator: 1, denominator: 2 },
      { key: { station: '霍营消防站' }, value: 1, numerator: 1, denominator: 1 },
    ]);
    const both = await kpi(app, 'fire_response_coverage_5min', `${MORNING}&groupBy=${q('district,station')}`);
    expect(both.groups.map((g: { key: unknown; value: number }) => [g.key, g.value])).toEqual([
      [{ district: HLG, station: '回龙观消防站' }, 0.5],
      [{ district: HLG, station: '霍营消防站' }, 1],
      [{ district: TTYN, station: '天通苑消防站' }, 0.5],
    ]);
  });

  it('counts a 1-minute bucket when its start is in [from, to)', async () => {
    const { app } = await fireService();
    expect(await kpi(app, 'fire_response_coverage_5min', range('08:00', '08:05'))).toMatchObject({ value: 2 / 3, numerator: 2, denominator: 3 });
    expect(await kpi(app, 'fire_response_coverage_5min', range('08:05', '08:10'))).toMatchObject({ value: 0.5, numerator: 1, denominator: 2 });
    // F3 was received at 08:02:00: its minute starts at `to` (excluded) or at `from` (included).
    expect(await kpi(app, 'fire_response_coverage_5min', range('08:00', '08:02'))).toMatchObject({ numerator: 1, denominator: 2 });
    expect(await kpi(app, 'fire_response_coverage_5min', range('08:02', '08:03'))).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // 08:01:59 is inside F2's minute, so that minute (start 08:01:00) is not in [08:01:59, …).
    const from = q('2026-07-21T08:01:59+08:00');
    expect(await kpi(app, 'fire_response_coverage_5min', `from=${from}&to=${q(beijing('08:03'))}`)).toMatchObject({ numerator: 1, denominator: 1 });
  });

  it('answers value null when nothing was decided in the range', async () => {
    const { app } = await fireService();
    expect(await kpi(app, 'fire_response_coverage_5min', `${range('08:10', '09:00')}&groupBy=district`)).toMatchObject({
      value: null,
      numerator: 0,
      denominator: 0,
      meetsTarget: null,
      groups: [],
    });
    expect(await kpi(app, 'fire_response_time_p90', range('10:00', '11:00'))).toMatchObject({ value: null, count: 0, meetsTarget: null });
    expect(await kpi(app, 'alert_ack_seconds_mean', MORNING)).toMatchObject({ value: null, sum: 0, count: 0, meetsTarget: null });
    expect(await kpi(app, 'parking_occupancy_rate', MORNING)).toMatchObject({ value: null, last: null, max: null, mean: null, samples: 0 });
  });

  it('answers a percentile with its count', async () => {
    const { app } = await fireService();
    expect(await kpi(app, 'fire_response_time_p90', `${MORNING}&groupBy=district`)).toEqual({
      name: 'fire_response_time_p90',
      kind: 'percentile',
      unit: 's',
      from: beijing('08:00'),
      to: beijing('09:00'),
      target: 300,
      value: HAND_COMPUTED.p90Seconds,
      count: 4,
      meetsTarget: false,
      groups: [
        { key: { district: HLG }, value: 305, count: 3 },
        { key: { district: TTYN }, value: 120, count: 1 },
      ],
    });
  });

  it('defaults `to` to the end of the current event-time minute and `from` to 24 h before', async () => {
    const { app } = await fireService();
    // Replay mode: the stream's clock is its newest event time, 08:30:00.
    const r = await kpi(app, 'fire_response_coverage_5min', '');
    expect([r.from, r.to, r.value]).toEqual([beijing('08:31', '2026-07-20'), beijing('08:31'), 0.6]);
    const onlyFrom = await kpi(app, 'fire_response_coverage_5min', `from=${q(beijing('08:05'))}`);
    expect([onlyFrom.from, onlyFrom.to, onlyFrom.value]).toEqual([beijing('08:05'), beijing('08:31'), 0.5]);
  });

  describe('gauges and means', () => {
    // Readings at 08:00 (P1 12 cm; lots A 80/100 and B 50/50), 08:01:30 (P1 30 cm),
    // 08:02 (alarm L1), 08:03 (P1 8 cm), 08:09 (alarm L2), 08:10 (P2, moving the
    // watermark to 08:09): minutes 08:00 … 08:08 are sampled.
    const m = (hhmmss: string) => (Date.parse(`2026-07-21T${hhmmss}+08:00`) - T0) / 1000;
    const scenario = [
      waterlogging('w1', m('08:00:00'), 'P1', 12, HLG),
      parking('p1', m('08:00:00'), 'A', 80, 100, TTYN),
      parking('p2', m('08:00:00'), 'B', 50, 50, HLG),
      waterlogging('w2', m('08:01:30'), 'P1', 30, HLG),
      utilityAlarm('u1', m('08:02:00'), 'L1', 'E01', 'raised', 'yellow', HY),
      waterlogging('w3', m('08:03:00'), 'P1', 8, HLG),
      utilityAlarm('u2', m('08:09:00'), 'L2', 'E02', 'raised', 'red', HY),
      waterlogging('w4', m('08:10:00'), 'P2', 0, TTYN),
    ];

    it('answers a gauge as value (= last), last, max and mean over the sampled minutes', async () => {
      const { app } = await startTestService();
      expect((await postEvents(app, scenario)).json.accepted).toBe(8);
      // Deepest water per minute 08:00 … 08:08: 12, 30, 30, 30, 8, 8, 8, 8, 8.
      const depth = await kpi(app, 'waterlogging_max_depth_cm', `${MORNING}&groupBy=point`);
      // The last minute's 8 cm is below the 15 cm target, though 30 cm was reached.
      expect(depth).toMatchObject({ kind: 'gauge', unit: 'cm', value: 8, last: 8, max: 30, samples: 9, target: 15, meetsTarget: true });
      expect(depth.mean).toBeCloseTo(142 / 9, 12);
      expect(depth.groups).toHaveLength(1);
      expect(depth.groups[0]).toMatchObject({ key: { point: 'P1' }, value: 8, last: 8, max: 30, samples: 9 });
      // Latest depth ≥ 15 cm at the end of the minute: only 08:01 and 08:02.
      const over = await kpi(app, 'waterlogging_points_over_threshold', MORNING);
      expect(over).toMatchObject({ value: 0, last: 0, max: 1, samples: 9, target: 0, meetsTarget: true });
      expect(over.mean).toBeCloseTo(2 / 9, 12);
      const occupancy = await kpi(app, 'parking_occupancy_rate', `${MORNING}&groupBy=lot`);
      // 87 % is above the 85 % at which drivers start cruising for a space.
      expect(occupancy).toMatchObject({ value: 130 / 150, last: 130 / 150, max: 130 / 150, samples: 9, target: 0.85, meetsTarget: false });
      expect(occupancy.groups.map((g: { key: unknown; value: number }) => [g.key, g.value])).toEqual([
        [{ lot: 'A' }, 0.8],
        [{ lot: 'B' }, 1],
      ]);
      const alarms = await kpi(app, 'utility_active_alarms', `${MORNING}&groupBy=network`);
      expect(alarms).toMatchObject({ value: 1, last: 1, max: 1, mean: 1, samples: 7, target: 0, meetsTarget: false, groups: [{ key: { network: 'water' }, value: 1 }] });
    });

    it('answers a mean with sum and count', async () => {
      const { app } = await startTestService();
      await postEvents(app, scenario);
      const alerts = (await get(app, '/v1/alerts?category=utility')).json.items as Array<{ id: string; entityId: string }>;
      expect(alerts.map((a) => a.entityId)).toEqual(['L2/E02', 'L1/E01']);
      // Acknowledged at the stream's clock, 08:10:00: 480 s and 60 s after opening.
      for (const a of alerts) expect((await post(app, `/v1/alerts/${a.id}/ack`, { body: { by: '张伟' } })).status).toBe(200);
      expect(await kpi(app, 'alert_ack_seconds_mean', `${MORNING}&groupBy=category`)).toEqual({
        name: 'alert_ack_seconds_mean',
        kind: 'mean',
        unit: 's',
        from: beijing('08:00'),
        to: beijing('09:00'),
        target: null,
        value: 270,
        sum: 540,
        count: 2,
        meetsTarget: null,
        groups: [{ key: { category: 'utility' }, value: 270, sum: 540, count: 2 }],
      });
      // Attributed to the minute of the acknowledgement.
      expect(await kpi(app, 'alert_ack_seconds_mean', range('08:00', '08:10'))).toMatchObject({ value: null, count: 0 });
    });
  });

  it('answers 404 KPI_NOT_FOUND for an unknown name', async () => {
    const { app } = await startTestService();
    const error = expectError(await get(app, '/v1/kpis/fire_coverage'), 404, 'KPI_NOT_FOUND');
    expect(error.message).toBe('no KPI named fire_coverage; GET /v1/kpis lists them');
    expectError(await get(app, '/v1/kpis/fire_coverage/series'), 404, 'KPI_NOT_FOUND');
  });

  it('answers 400 VALIDATION_FAILED for a bad from, to or groupBy', async () => {
    const { app } = await startTestService();
    const url = '/v1/kpis/fire_response_coverage_5min';
    for (const query of [
      'from=yesterday',
      `from=${q('2026-07-21T08:00:00')}`, // no offset
      `from=${q('2026-07-21')}`,
      `to=${q('2026-02-30T08:00:00+08:00')}`, // no such day
      `to=${q('2026-07-21T24:00:00+08:00')}`,
    ]) {
      const error = expectError(await get(app, `${url}?${query}`), 400, 'VALIDATION_FAILED');
      expect(error.details, query).toEqual([expect.stringMatching(/^querystring\.(from|to): must be an RFC 3339 timestamp with offset/)]);
    }
    let error = expectError(await get(app, `${url}?${range('09:00', '08:00')}`), 400, 'VALIDATION_FAILED');
    expect(error.message).toBe('the request is invalid: `from` must be before `to`');
    expectError(await get(app, `${url}?${range('08:00', '08:00')}`), 400, 'VALIDATION_FAILED');
    error = expectError(await get(app, `${url}?${MORNING}&groupBy=lot`), 400, 'VALIDATION_FAILED');
    expect(error.message).toBe('the request is invalid: groupBy: fire_response_coverage_5min can be grouped by district, station, not lot');
    expectError(await get(app, `${url}?${MORNING}&groupBy=${q('district,point')}`), 400, 'VALIDATION_FAILED');
  });
});

describe('GET /v1/kpis/:name/series', () => {
  const series = async (app: FastifyInstance, name: string, query: string) => {
    const r = await get(app, `/v1/kpis/${name}/series?${query}`);
    expect(r.status, r.body).toBe(200);
    return r.json;
  };

  it('answers one point per step over the trailing window (default = step)', async () => {
    const { app } = await fireService();
    const s = await series(app, 'fire_response_coverage_5min', `${range('08:00', '08:15')}&step=5m`);
    expect(s).toEqual({
      name: 'fire_response_coverage_5min',
      kind: 'ratio',
      unit: 'ratio',
      target: 0.8,
      from: beijing('08:00'),
      to: beijing('08:15'),
      step: '5m',
      window: '5m',
      points: [
        { at: beijing('08:05'), from: beijing('08:00'), value: 2 / 3, numerator: 2, denominator: 3 },
        { at: beijing('08:10'), from: beijing('08:05'), value: 0.5, numerator: 1, denominator: 2 },
        { at: beijing('08:15'), from: beijing('08:10'), value: null, numerator: 0, denominator: 0 },
      ],
    });
    const wide = await series(app, 'fire_response_coverage_5min', `${range('08:00', '08:15')}&step=5m&window=10m`);
    expect(wide.window).toBe('10m');
    expect(wide.points.map((p: { from: string; value: number | null }) => [p.from, p.value])).toEqual([
      [beijing('07:55'), 2 / 3],
      [beijing('08:00'), 0.6],
      [beijing('08:05'), 0.5],
    ]);
  });

  it('draws a rolling 24-hour value at a 1-hour step', async () => {
    const { app } = await fireService();
    const s = await series(app, 'fire_response_coverage_5min', `${range('07:00', '11:00')}&step=1h&window=24h`);
    expect(s.points.map((p: { at: string; from: string; value: number | null }) => [p.at, p.from, p.value])).toEqual([
      [beijing('08:00'), beijing('08:00', '2026-07-20'), null],
      [beijing('09:00'), beijing('09:00', '2026-07-20'), 0.6],
      [beijing('10:00'), beijing('10:00', '2026-07-20'), 0.6],
      [beijing('11:00'), beijing('11:00', '2026-07-20'), 0.6],
    ]);
    const daily = await series(app, 'fire_response_time_p90', `from=${q(beijing('00:00'))}&to=${q(beijing('00:00', '2026-07-22'))}&step=1d`);
    expect(daily.points).toEqual([{ at: beijing('00:00', '2026-07-22'), from: beijing('00:00'), value: 305, count: 4 }]);
  });

  it('draws a gauge series with last, max and mean per point', async () => {
    const { app } = await startTestService();
    const m = (hhmmss: string) => (Date.parse(`2026-07-21T${hhmmss}+08:00`) - T0) / 1000;
    await postEvents(app, [
      waterlogging('w1', m('08:00:00'), 'P1', 12, HLG),
      waterlogging('w2', m('08:01:30'), 'P1', 30, HLG),
      waterlogging('w3', m('08:03:00'), 'P1', 8, HLG),
      cloudEvent('huitian.waterlogging.reading', 'w4', m('08:10:00'), { pointId: 'P2', depthCm: 0 }),
    ]);
    const s = await series(app, 'waterlogging_max_depth_cm', `${range('08:00', '08:10')}&step=5m`);
    expect(s.points).toEqual([
      { at: beijing('08:05'), from: beijing('08:00'), value: 8, last: 8, max: 30, mean: 22, samples: 5 },
      { at: beijing('08:10'), from: beijing('08:05'), value: 8, last: 8, max: 8, mean: 8, samples: 4 },
    ]);
  });

  it('answers 400 for a bad step or window, or too many points', async () => {
    const { app } = await startTestService();
    const url = '/v1/kpis/fire_response_coverage_5min/series';
    for (const window of ['24', '0h', '90s', '1w', '-5m', '1.5h']) {
      const error = expectError(await get(app, `${url}?${MORNING}&step=5m&window=${q(window)}`), 400, 'VALIDATION_FAILED');
      expect(error.message, window).toBe('the request is invalid: querystring.window: must be a whole number of minutes, hours or days, e.g. 5m, 24h, 7d');
    }
    const step = expectError(await get(app, `${url}?${MORNING}&step=2m`), 400, 'VALIDATION_FAILED');
    expect(step.details).toEqual([expect.stringMatching(/^querystring\.step: /)]);
    const many = expectError(await get(app, `${url}?from=${q(beijing('00:00', '2026-07-01'))}&to=${q(beijing('00:00'))}&step=1m`), 400, 'VALIDATION_FAILED');
    expect(many.message).toBe('the request is invalid: the range holds more than 10000 steps; use a larger step');
    // 10 000 points is the most allowed: 6 days 22 h 40 min at 1m.
    const r = await get(app, `${url}?from=${q(beijing('00:00', '2026-07-14'))}&to=${q('2026-07-20T22:40:00+08:00')}&step=1m`);
    expect([r.status, r.json.points.length]).toEqual([200, 10_000]);
    expectError(await get(app, `${url}?${range('09:00', '08:00')}&step=1h`), 400, 'VALIDATION_FAILED');
    // Found by schemathesis: a huge window held the event loop (every minute of every window).
    const started = Date.now();
    const huge = expectError(await get(app, `${url}?${MORNING}&step=1h&window=99999999d`), 400, 'VALIDATION_FAILED');
    expect(huge.message).toBe('the request is invalid: window: at most 31d');
    const gauge = '/v1/kpis/parking_occupancy_rate/series';
    const wide = expectError(await get(app, `${gauge}?from=${q(beijing('00:00', '2026-07-14'))}&to=${q('2026-07-20T22:40:00+08:00')}&step=1m&window=31d`), 400, 'VALIDATION_FAILED');
    expect(wide.message).toMatch(/a gauge series visits every minute of every window/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
