/**
 * GET /v1/targets: the action plan's targets — coverage from the coverage KPI, 新增停车位
 * from parking readings now against the baseline day 2026-04-12, and the two targets this
 * service cannot measure, each saying what it would need.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { beijing, FIRE_FIXTURE, HAND_COMPUTED } from '../fixtures/fire-response-small.js';
import { HLG, TTYN } from '../helpers/events.js';
import { get, postEvents, q, startTestService, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const lot = (id: string, time: string, lotId: string, capacity: number, occupied = 0) => ({
  specversion: '1.0',
  id,
  source: '/parking',
  type: 'huitian.parking.occupancy',
  time,
  data: { lotId, capacity, occupied, district: lotId === 'A' ? HLG : TTYN },
});

interface Target {
  id: string;
  status: string;
  value: number | null;
  target: number;
  meetsTarget: boolean | null;
  reason: string | null;
  reasonEn: string | null;
  details: Record<string, unknown>;
}

async function targets(app: Parameters<typeof get>[0], query = ''): Promise<Record<string, Target>> {
  const r = await get(app, `/v1/targets${query}`);
  expect(r.status, r.body).toBe(200);
  expect(r.json.plan).toBe('回天行动计划（2026—2030 年）');
  return Object.fromEntries((r.json.items as Target[]).map((t) => [t.id, t]));
}

describe('GET /v1/targets', () => {
  it('lists the four plan targets, in order, with their targets', async () => {
    const { app } = await startTestService();
    const r = await get(app, '/v1/targets');
    expect((r.json.items as Target[]).map((t) => [t.id, t.target, t.status])).toEqual([
      ['fire_response_coverage_5min', 0.8, 'no_data'],
      ['new_parking_spaces', 10_000, 'no_data'],
      ['transit_transfer_within_50m', 0.95, 'not_measured'],
      ['rail_share_of_outbound_trips', 0.3, 'not_measured'],
    ]);
    for (const t of r.json.items as Array<Target & { title: string; titleEn: string }>) {
      expect(t.title).toMatch(/[\u4e00-\u9fff]/);
      expect(t.titleEn).toMatch(/^[\x20-\x7e–]+$/);
      // No target without a value answers without a reason.
      expect(t.value === null ? typeof t.reason : 'has a value').toBe(t.value === null ? 'string' : 'has a value');
    }
  });

  it('says what the unmeasured targets would need', async () => {
    const { app } = await startTestService();
    const t = await targets(app);
    expect(t.transit_transfer_within_50m).toMatchObject({ status: 'not_measured', value: null, meetsTarget: null });
    expect(t.transit_transfer_within_50m!.reasonEn).toMatch(/GTFS stops and entrance coordinates/);
    expect(t.rail_share_of_outbound_trips!.reason).toMatch(/出行 OD 数据/);
  });

  it('answers the coverage target from the coverage KPI over the range', async () => {
    const { app } = await startTestService();
    const lines = readFileSync(FIRE_FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
    expect((await postEvents(app, lines)).json.accepted).toBe(21);
    const t = await targets(app, `?from=${q(beijing('08:00'))}&to=${q(beijing('09:00'))}`);
    expect(t.fire_response_coverage_5min).toMatchObject({
      status: 'measured',
      value: HAND_COMPUTED.coverage,
      meetsTarget: false,
      reason: null,
      details: { from: beijing('08:00'), to: beijing('09:00'), covered: HAND_COMPUTED.covered, decided: HAND_COMPUTED.covered + HAND_COMPUTED.missed },
    });
    const byDistrict = (t.fire_response_coverage_5min!.details.byDistrict as Array<{ district: string; value: number }>).map((d) => [d.district, d.value]);
    expect(byDistrict).toEqual(HAND_COMPUTED.byDistrict.map((g) => [g.key.district, g.value]));
    // The default range is the trailing 24 h of event time, which holds the same morning.
    expect((await targets(app)).fire_response_coverage_5min!.value).toBe(HAND_COMPUTED.coverage);
  });

  it('counts new parking spaces as Σ capacity now minus Σ capacity at the end of 2026-04-12', async () => {
    // One request jumps from April to July: a replay across months allows events that far ahead.
    const { app } = await startTestService({ env: { HUITIAN_MAX_FUTURE_S: String(365 * 86_400) } });
    const events = [
      lot('b1', '2026-04-12T10:00:00+08:00', 'A', 100),
      lot('b2', '2026-04-12T10:00:00+08:00', 'B', 50),
      // Lot B grew that evening: the baseline is the day's last sampled minute.
      lot('b3', '2026-04-12T20:00:00+08:00', 'B', 60),
      // Event time moves past the end of the day (the minutes are sampled), as a live stream's would.
      lot('b4', '2026-04-13T00:02:00+08:00', 'A', 100),
      lot('n1', '2026-07-21T08:00:00+08:00', 'A', 100),
      lot('n2', '2026-07-21T08:00:00+08:00', 'B', 60),
      // Connected after the baseline: new spaces.
      lot('n3', '2026-07-21T08:00:00+08:00', 'C', 10_000),
      lot('n4', '2026-07-21T08:01:00+08:00', 'D', 500),
      lot('n5', '2026-07-21T08:05:00+08:00', 'A', 100, 10),
    ];
    expect((await postEvents(app, events)).json.accepted).toBe(events.length);
    const t = (await targets(app)).new_parking_spaces!;
    expect(t).toMatchObject({
      status: 'measured',
      value: 10_660 - 160,
      meetsTarget: true,
      details: { baselineDate: '2026-04-12', capacityAtBaseline: 160, lotsAtBaseline: 2, baselineMinute: '2026-04-12T23:59:00+08:00', capacityNow: 10_660, lotsNow: 4 },
    });
    // As of a moment before lot D reported, D is not counted yet.
    const before = (await targets(app, `?to=${q('2026-07-21T08:01:00+08:00')}`)).new_parking_spaces!;
    expect(before).toMatchObject({ value: 10_160 - 160, details: { lotsNow: 3, nowMinute: '2026-07-21T08:00:00+08:00' } });
  });

  it('answers no_data, saying which readings are missing, without a baseline', async () => {
    const { app } = await startTestService();
    expect((await postEvents(app, [lot('n1', '2026-07-21T08:00:00+08:00', 'A', 20_000), lot('n2', '2026-07-21T08:03:00+08:00', 'A', 20_000)])).json.accepted).toBe(2);
    const t = (await targets(app)).new_parking_spaces!;
    expect(t).toMatchObject({ status: 'no_data', value: null, meetsTarget: null, details: { capacityNow: 20_000, lotsNow: 1 } });
    expect(t.reason).toContain('基准日 2026-04-12');
    expect(t.reasonEn).toContain('the baseline day 2026-04-12');
  });
});
