/**
 * The dashboard queries (dashboards/flux/*.flux, which README.md and the Grafana dashboard
 * include) run against the real InfluxDB after a replay, and agree with the API's answer
 * for the same range and grouping — on ranges with quiet hours, and with districts that
 * had only covered or only missed incidents (where sparse partials leave a field absent).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { arrived, dispatched, HLG, HY, parking, received, TTYN, utilityAlarm, waterlogging } from '../helpers/events.js';
import { createInfluxDatabase, nonConforming, startTestService, uniqueSuffix } from './helpers.js';

const services = inject('services');
const FLUX_DIR = 'dashboards/flux';
const H = 3600;

/** Fire incidents: HLG only covered, TTYN only missed, HY both; hours 0–2 and 20–22 busy, the rest quiet. */
function stream(): unknown[] {
  const out: unknown[] = [];
  let n = 0;
  const incident = (t: number, district: string, responseS: number | null) => {
    const id = `F${++n}`;
    out.push(received(`${id}-r`, t, id, 'fire', district, `${district}站`), dispatched(`${id}-d`, t + 30, id, `U${n}`, `${district}站`));
    if (responseS !== null) out.push(arrived(`${id}-a`, t + 30 + responseS, id, `U${n}`));
  };
  for (const base of [0, 20 * H]) {
    incident(base + 60, HLG, 120);
    incident(base + 600, HLG, 299);
    incident(base + 900, TTYN, 400);
    incident(base + 1500, TTYN, null);
    incident(base + 2 * H, HY, 200);
    incident(base + 2 * H + 300, HY, 500);
  }
  for (let m = 0; m < 26 * 60; m += 7) {
    out.push(waterlogging(`w${m}a`, m * 60, 'WL-1', m % 50, HLG), waterlogging(`w${m}b`, m * 60 + 5, 'WL-2', (m * 3) % 40, TTYN));
    out.push(parking(`p${m}a`, m * 60 + 10, 'LOT-1', (m * 13) % 120, 100, HLG), parking(`p${m}b`, m * 60 + 15, 'LOT-2', (m * 7) % 50, 80, HY));
  }
  out.push(utilityAlarm('u1', 3 * 60, 'L1', 'leak', 'raised', 'yellow', HLG), utilityAlarm('u2', 40 * 60, 'L1', 'leak', 'cleared', undefined, HLG));
  out.push(utilityAlarm('u3', 5 * H, 'L2', 'pressure', 'raised', 'orange', TTYN));
  const time = (e: unknown) => Date.parse((e as { time: string }).time);
  out.sort((a, b) => time(a) - time(b));
  // Moves the watermark past everything, so every incident is decided and every minute sampled.
  out.push(waterlogging('w-end', 27 * H, 'WL-9', 0, HY));
  return out;
}

describe.skipIf(!services.available)('dashboard Flux queries', () => {
  const database = `it_flux_${uniqueSuffix()}`;
  let service: Service;

  beforeAll(async () => {
    await createInfluxDatabase(services.influx, database);
    service = await startTestService({ influxUrl: services.influx, influxBucket: `${database}/autogen` });
    const body = stream().map((e) => JSON.stringify(e)).join('\n');
    const r = await service.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    expect(r.statusCode, r.body).toBe(202);
    await service.pipeline.flushSink();
  });

  afterAll(async () => {
    await service?.stop();
    expect(nonConforming).toEqual([]);
  });

  async function flux(file: string, from: string, to: string): Promise<Array<Record<string, string>>> {
    const text = readFileSync(`${FLUX_DIR}/${file}`, 'utf8').replaceAll('from(bucket: "huitian")', `from(bucket: "${database}/autogen")`);
    // What Grafana and the InfluxDB UI inject as `v`, after the imports.
    const lines = text.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    const option = `option v = {timeRangeStart: ${new Date(from).toISOString()}, timeRangeStop: ${new Date(to).toISOString()}, windowPeriod: 1m}`;
    const query = [...imports, option, ...lines.filter((l) => !l.startsWith('import '))].join('\n');
    const res = await fetch(`${services.influx}/api/v2/query`, { method: 'POST', headers: { accept: 'application/csv', 'content-type': 'application/vnd.flux' }, body: query });
    const csv = await res.text();
    expect(res.status, `${file}: ${csv}`).toBe(200);
    return parseCsv(csv);
  }

  async function api(path: string): Promise<any> {
    const r = await service.app.inject({ method: 'GET', url: path });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  }
  const q = (from: string, to: string) => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x * 1e9) / 1e9);
  const T = (h: number) => new Date(Date.parse('2026-07-21T08:00:00+08:00') + h * H * 1000).toISOString();
  // Ranges: the whole stream; one with a quiet middle; one under 24 h; one only quiet.
  const RANGES: Array<[string, string, string]> = [
    ['whole', T(-1), T(28)],
    ['quiet middle', T(0), T(24)],
    ['under 24 h', T(1), T(6)],
    ['quiet only', T(8), T(12)],
  ];

  it('has a file per dashboard panel, each one the README shows', () => {
    const files = readdirSync(FLUX_DIR).filter((f) => f.endsWith('.flux')).sort();
    expect(files).toEqual(['fire-coverage-by-district.flux', 'fire-coverage-rolling-24h.flux', 'fire-response-time-p90.flux', 'parking-occupancy-by-district.flux', 'utility-active-alarms.flux', 'waterlogging-points-over-threshold.flux']);
  });

  it.each(RANGES)('coverage by district agrees with the API (%s)', async (_name, from, to) => {
    const rows = await flux('fire-coverage-by-district.flux', from, to);
    const answer = await api(`/v1/kpis/fire_response_coverage_5min?${q(from, to)}&groupBy=district`);
    const expected = (answer.groups as Array<{ key: { district: string }; value: number | null }>).filter((g) => g.value !== null).map((g) => [g.key.district, round(g.value)]);
    expect(rows.map((r) => [r.district, round(Number(r.coverage))])).toEqual(expected);
    if (_name === 'whole') expect(expected).toEqual([[HLG, 1], [HY, 0.5], [TTYN, 0]].sort((a, b) => JSON.stringify([a[0]]).localeCompare(JSON.stringify([b[0]]))));
  });

  it('counts a partial at the end of a range out of it, as [from, to) says (InfluxDB 1.8 includes the stop)', async () => {
    // F1 was received at 08:01: its bucket starts at the stop of [08:00, 08:01).
    const before = await api(`/v1/kpis/fire_response_coverage_5min?${q(T(0), new Date(Date.parse(T(0)) + 60_000).toISOString())}&groupBy=district`);
    expect([before.denominator, before.groups]).toEqual([0, []]);
    const with1 = await api(`/v1/kpis/fire_response_coverage_5min?${q(T(0), new Date(Date.parse(T(0)) + 120_000).toISOString())}`);
    expect([with1.numerator, with1.denominator]).toEqual([1, 1]);
    expect(await flux('fire-coverage-by-district.flux', T(0), new Date(Date.parse(T(0)) + 60_000).toISOString())).toEqual([]);
  });

  it.each(RANGES)('the rolling 24 h coverage agrees with the API series (%s)', async (_name, from, to) => {
    const rows = await flux('fire-coverage-rolling-24h.flux', from, to);
    const answer = await api(`/v1/kpis/fire_response_coverage_5min/series?${q(from, to)}&step=1h&window=24h`);
    const expected = (answer.points as Array<{ at: string; value: number | null }>).filter((p) => p.value !== null).map((p) => [Date.parse(p.at), round(p.value)]);
    expect(rows.map((r) => [Date.parse(r._time!), round(Number(r.coverage))])).toEqual(expected);
  });

  it.each(RANGES)('p90 agrees with the API (%s)', async (_name, from, to) => {
    const rows = await flux('fire-response-time-p90.flux', from, to);
    const answer = await api(`/v1/kpis/fire_response_time_p90?${q(from, to)}`);
    expect(rows.map((r) => [Number(r.p90_seconds), Number(r.incidents)])).toEqual(answer.value === null ? [] : [[answer.value, answer.count]]);
  });

  /** last / max / mean of a per-minute Flux series, per group, as the API's gauge groups. */
  function gaugeOf(rows: Array<Record<string, string>>, group: string, value: string) {
    const out = new Map<string, { last: number; max: number; sum: number; samples: number }>();
    for (const r of [...rows].sort((a, b) => Date.parse(a._time!) - Date.parse(b._time!))) {
      const v = Number(r[value]);
      const g = out.get(r[group]!) ?? { last: v, max: v, sum: 0, samples: 0 };
      g.last = v;
      g.max = Math.max(g.max, v);
      g.sum += v;
      g.samples++;
      out.set(r[group]!, g);
    }
    return [...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, g]) => [k, round(g.last), round(g.max), round(g.sum / g.samples), g.samples]);
  }
  const apiGauge = (answer: any, tag: string) =>
    (answer.groups as Array<{ key: Record<string, string>; last: number; max: number; mean: number; samples: number }>)
      .filter((g) => g.samples > 0)
      .map((g) => [g.key[tag], round(g.last), round(g.max), round(g.mean), g.samples]);

  it.each(RANGES)('parking occupancy, waterlogging and utility alarms agree with the API per minute (%s)', async (_name, from, to) => {
    expect(gaugeOf(await flux('parking-occupancy-by-district.flux', from, to), 'district', 'rate')).toEqual(
      apiGauge(await api(`/v1/kpis/parking_occupancy_rate?${q(from, to)}&groupBy=district`), 'district'),
    );
    expect(gaugeOf(await flux('waterlogging-points-over-threshold.flux', from, to), 'district', 'points')).toEqual(
      apiGauge(await api(`/v1/kpis/waterlogging_points_over_threshold?${q(from, to)}&groupBy=district`), 'district'),
    );
    expect(gaugeOf(await flux('utility-active-alarms.flux', from, to), 'network', 'alarms')).toEqual(
      apiGauge(await api(`/v1/kpis/utility_active_alarms?${q(from, to)}&groupBy=network`), 'network'),
    );
  });
});

/** Annotated CSV of the Flux query API → rows (the annotation lines dropped, tables joined). */
function parseCsv(csv: string): Array<Record<string, string>> {
  const rows: Array<Record<string, string>> = [];
  let header: string[] | undefined;
  for (const line of csv.split(/\r?\n/)) {
    if (line === '') {
      header = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    const cells = line.split(',');
    if (header === undefined) {
      header = cells;
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h !== '') row[h] = cells[i]!;
    });
    rows.push(row);
  }
  return rows;
}
