/**
 * Group tags reach InfluxDB as line-protocol tags and must come back as they went in, so
 * that the embedded store and InfluxDB answer alike (DESIGN §6: ids and tags cannot smuggle
 * one group's numbers into another). Commas, spaces, equals signs, quotes and backslashes
 * inside a value round-trip; a value InfluxDB cannot store (ending in a backslash) is
 * refused at decode — once accepted, it made InfluxDB refuse the whole write, and every
 * KPI point behind it waited forever.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { createInfluxDatabase, expectedKpis, normalise, referenceRun, serviceKpis, startTestService, uniqueSuffix, waitForSettled } from './helpers.js';

const services = inject('services');

const TRICKY = ['回龙观 街道', 'a,b', 'a=b', 'q"q', "it's", 'x\\y', '\\lead', 'wide\u3000space', 'end ', '😀'];
const T0 = Date.parse('2026-07-21T06:00:00+08:00');

function reading(n: number, minute: number, pointId: string, district: string | undefined, depthCm: number): string {
  const data: Record<string, unknown> = { pointId, depthCm };
  if (district !== undefined) data.district = district;
  return JSON.stringify({
    specversion: '1.0',
    id: `tag-${n}`,
    source: '/sensors/waterlogging',
    type: 'huitian.waterlogging.reading',
    time: new Date(T0 + minute * 60_000).toISOString(),
    data,
  });
}

describe.skipIf(!services.available)('group tags through InfluxDB', () => {
  const database = `it_tags_${uniqueSuffix()}`;
  let service: Service;

  beforeAll(async () => {
    await createInfluxDatabase(services.influx, database);
    service = await startTestService({ influxUrl: services.influx, influxBucket: `${database}/autogen`, instanceId: `tags-${database}` });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('come back from InfluxDB exactly as the embedded store keeps them; a value InfluxDB cannot store is refused', async () => {
    const lines: string[] = [];
    let n = 0;
    for (let minute = 0; minute < 5; minute++) {
      TRICKY.forEach((text, i) => lines.push(reading(++n, minute, `P ${text}`, text, 10 + i * 3 + minute)));
      // An empty district is no district (InfluxDB has no empty tag value).
      lines.push(reading(++n, minute, 'P-no-district', '', 20));
    }
    const refused = reading(++n, 2, 'C:\\', 'D\\', 30);
    const body = [...lines.slice(0, 20), refused, ...lines.slice(20)].join('\n');
    const res = await service.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: lines.length, rejected: 1 });
    expect(res.json().errors[0].reason).toBe('data.pointId: must not end with a backslash (InfluxDB cannot store a tag that does); data.district: must not end with a backslash (InfluxDB cannot store a tag that does)');

    const ref = referenceRun(lines);
    await waitForSettled(service, ref, 30_000);
    const expected = expectedKpis(ref);
    const actual = await serviceKpis(service);
    // The groups hold every tricky district and point, and nothing else.
    const byDistrict = actual['waterlogging_max_depth_cm?groupBy=district']!;
    expect(byDistrict.groups!.map((g) => g.key.district).sort()).toEqual([...TRICKY, 'unknown'].sort());
    const byPoint = actual['waterlogging_max_depth_cm?groupBy=point']!;
    expect(byPoint.groups!.map((g) => g.key.point).sort()).toEqual([...TRICKY.map((t) => `P ${t}`), 'P-no-district'].sort());
    for (const name of Object.keys(expected)) expect(normalise(actual[name]), name).toEqual(normalise(expected[name]));
  });
});
