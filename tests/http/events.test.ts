/**
 * POST /v1/events through fastify.inject: every encoding, the 202 report, the 400, 413 and
 * 415 answers, duplicates, late events and the dead letters rejected records land in.
 */
import { formatInZone } from '../../src/time/time-zone.js';
import { describe, expect, it } from 'vitest';
import { arrived, at, dispatched, HLG, ndjson, received, T0, TTYN, waterlogging } from '../helpers/events.js';
import { call, expectError, get, post, postEvents, q, startTestService, useServiceCleanup, WALL_START } from '../helpers/service.js';

useServiceCleanup();

const KNOWN_TYPES =
  'huitian.waterlogging.reading, huitian.utility.reading, huitian.utility.alarm, huitian.parking.occupancy, huitian.dispatch.received, huitian.dispatch.dispatched, huitian.dispatch.arrived, huitian.dispatch.closed';

const deep = (id: string, seconds: number, point = 'P1') => waterlogging(id, seconds, point, 30, HLG);

async function alertsOf(app: Parameters<typeof get>[0], entityId: string) {
  const r = await get(app, `/v1/alerts?entityId=${q(entityId)}`);
  expect(r.status).toBe(200);
  return r.json.items as Array<{ entityId: string; severity: string; history: Array<{ by: string }>; openedAt: string }>;
}

describe('POST /v1/events encodings', () => {
  it('takes one structured event as application/cloudevents+json', async () => {
    const { app } = await startTestService();
    const r = await post(app, '/v1/events', { contentType: 'application/cloudevents+json', body: deep('a1', 0) });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 1, duplicates: 0, rejected: 0, errors: [] });
    const alerts = await alertsOf(app, 'P1');
    expect(alerts.map((a) => [a.severity, a.history[0]!.by])).toEqual([['orange', 'event:a1']]);
  });

  it('takes one event or an array as application/json, with a charset parameter too', async () => {
    const { app } = await startTestService();
    let r = await post(app, '/v1/events', { contentType: 'application/json', body: deep('j1', 0, 'P1') });
    expect([r.status, r.json]).toEqual([202, { accepted: 1, duplicates: 0, rejected: 0, errors: [] }]);
    r = await post(app, '/v1/events', { contentType: 'application/json; charset=utf-8', body: [deep('j2', 10, 'P2'), deep('j3', 20, 'P3')] });
    expect([r.status, r.json]).toEqual([202, { accepted: 2, duplicates: 0, rejected: 0, errors: [] }]);
    expect((await alertsOf(app, 'P3')).length).toBe(1);
  });

  it('takes a JSON array as application/cloudevents-batch+json and refuses a non-array there', async () => {
    const { app } = await startTestService();
    let r = await post(app, '/v1/events', { contentType: 'application/cloudevents-batch+json', body: [deep('b1', 0, 'P1'), deep('b2', 5, 'P2')] });
    expect([r.status, r.json]).toEqual([202, { accepted: 2, duplicates: 0, rejected: 0, errors: [] }]);
    r = await post(app, '/v1/events', { contentType: 'application/cloudevents-batch+json', body: deep('b3', 10, 'P3') });
    const error = expectError(r, 400, 'BODY_INVALID');
    expect(error.details).toBe('application/cloudevents-batch+json must be a JSON array of events');
    expect(r.json).toMatchObject({
      accepted: 0,
      duplicates: 0,
      rejected: 1,
      errors: [{ index: 0, id: null, reason: '(body): application/cloudevents-batch+json must be a JSON array of events' }],
    });
  });

  it('takes NDJSON, skipping blank lines, with indexes counting records', async () => {
    const { app } = await startTestService();
    const body = [JSON.stringify(deep('n1', 0, 'P1')), '', '   ', 'not json', JSON.stringify(deep('n2', 5, 'P2')), ''].join('\n');
    const r = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body });
    expect(r.status).toBe(202);
    expect(r.json.accepted).toBe(2);
    expect(r.json.duplicates).toBe(0);
    expect(r.json.rejected).toBe(1);
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0]).toMatchObject({ index: 1, id: null });
    expect(r.json.errors[0].reason).toMatch(/^\(event\): invalid JSON \(/);
  });

  it('takes one event in binary mode: ce-* headers, percent-decoded, and the data as the body', async () => {
    const { app } = await startTestService();
    const headers = {
      'ce-specversion': '1.0',
      'ce-id': 'wl%20HLG%2F001',
      // "/sensors/回龙观": header values are ASCII; the HTTP binding percent-encodes the rest.
      'ce-source': '/sensors/%E5%9B%9E%E9%BE%99%E8%A7%82',
      'ce-type': 'huitian.waterlogging.reading',
      'ce-time': '2026-07-21T08%3A00%3A00%2B08%3A00',
      'ce-subject': 'HLG-001',
    };
    let r = await post(app, '/v1/events', { headers, body: { pointId: 'HLG-001', depthCm: 42, district: HLG } });
    expect([r.status, r.json]).toEqual([202, { accepted: 1, duplicates: 0, rejected: 0, errors: [] }]);
    const [alert] = await alertsOf(app, 'HLG-001');
    expect(alert!.severity).toBe('red');
    expect(alert!.history[0]!.by).toBe('event:wl HLG/001');
    expect(alert!.openedAt).toBe('2026-07-21T08:00:00+08:00');

    // The same (source, id) in structured mode is the same event.
    const structured = { ...waterlogging('wl HLG/001', 0, 'HLG-001', 42, HLG), source: '/sensors/回龙观' };
    r = await post(app, '/v1/events', { contentType: 'application/cloudevents+json', body: structured });
    expect([r.status, r.json]).toEqual([202, { accepted: 0, duplicates: 1, rejected: 0, errors: [] }]);

    // Binary mode with invalid data or a missing attribute is one rejected record.
    r = await post(app, '/v1/events', { headers: { ...headers, 'ce-id': 'bin-2' }, body: { pointId: 'HLG-001', depthCm: -1 } });
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json.errors).toEqual([{ index: 0, id: 'bin-2', reason: 'data.depthCm: must be ≥ 0' }]);
    // A structured content type wins over stray ce-* headers (CloudEvents HTTP binding §3).
    r = await post(app, '/v1/events', {
      headers: { 'ce-specversion': '1.0', 'ce-id': 'stray' },
      contentType: 'application/cloudevents+json',
      body: waterlogging('st-1', 5, 'HLG-002', 16, HLG),
    });
    expect([r.status, r.json]).toEqual([202, { accepted: 1, duplicates: 0, rejected: 0, errors: [] }]);
    expect((await alertsOf(app, 'HLG-002'))[0]!.history[0]!.by).toBe('event:st-1');
    const { 'ce-time': _time, ...noTime } = headers;
    r = await post(app, '/v1/events', { headers: { ...noTime, 'ce-id': 'bin-3' }, body: { pointId: 'HLG-001', depthCm: 1 } });
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json.errors).toEqual([{ index: 0, id: 'bin-3', reason: 'time: is required' }]);
  });
});

describe('POST /v1/events reports', () => {
  // One fire incident reached in 120 s, a 30 cm reading, and a late-enough reading to
  // decide the incident; four bad records between them.
  const mixed = [
    received('m0', 0, 'F1', 'fire', HLG, '回龙观消防站'),
    waterlogging('m1', 10, 'P9', -5, HLG),
    dispatched('m2', 30, 'F1', 'U1', '回龙观消防站'),
    { ...received('m3', 40, 'F2', 'fire', HLG), type: 'huitian.weather.reading' },
    arrived('m4', 150, 'F1', 'U1'),
    'not json',
    waterlogging('m6', 200, 'P1', 30, HLG),
    (() => {
      const { time: _t, ...rest } = waterlogging('m7', 210, 'P1', 31, HLG);
      return rest;
    })(),
    waterlogging('m8', 400, 'P2', 0, HLG),
  ];
  const mixedErrors = [
    { index: 1, id: 'm1', reason: 'data.depthCm: must be ≥ 0' },
    { index: 3, id: 'm3', reason: `type: unknown event type "huitian.weather.reading" (known: ${KNOWN_TYPES})` },
    { index: 5, id: null, reason: expect.stringMatching(/^\(event\): invalid JSON \(/) },
    { index: 7, id: 'm7', reason: 'time: is required' },
  ];

  it('keeps the valid events of a mixed batch, reports each bad one, and dead-letters it', async () => {
    const { app, clock } = await startTestService();
    const r = await postEvents(app, mixed);
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 5, duplicates: 0, rejected: 4, errors: mixedErrors });
    expect(Object.keys(r.json).sort()).toEqual(['accepted', 'duplicates', 'errors', 'rejected']);

    // The valid events were applied: the incident is decided covered, the reading alerted.
    const kpi = await get(app, `/v1/kpis/fire_response_coverage_5min?from=${q(at(0))}&to=${q(at(3600))}`);
    expect(kpi.json).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect((await alertsOf(app, 'P1')).map((a) => a.severity)).toEqual(['orange']);
    expect(await alertsOf(app, 'P9')).toEqual([]);

    const dl = await get(app, '/v1/dead-letters');
    expect(dl.status).toBe(200);
    expect(dl.json.nextCursor).toBeNull();
    const received = formatInZone(clock.now(), 'Asia/Shanghai');
    expect(received).toBe('2026-07-21T09:00:00+08:00');
    expect(dl.json.items.map((d: Record<string, unknown>) => [d.eventId, d.type, d.channel, d.receivedAt])).toEqual([
      ['m7', 'huitian.waterlogging.reading', 'http', received],
      [null, null, 'http', received],
      ['m3', 'huitian.weather.reading', 'http', received],
      ['m1', 'huitian.waterlogging.reading', 'http', received],
    ]);
    expect(dl.json.items.map((d: { reason: string }) => d.reason)).toEqual(mixedErrors.map((e) => e.reason).reverse());
    expect(dl.json.items[1].payload).toBe('not json');
    expect(JSON.parse(dl.json.items[3].payload)).toEqual(mixed[1]);
  });

  it('counts duplicates: a repeated batch is 202 with nothing accepted, 400 when it also refused something', async () => {
    const { app } = await startTestService();
    await postEvents(app, mixed);
    const valid = mixed.filter((_, i) => !mixedErrors.some((e) => e.index === i));
    const repeat = await postEvents(app, valid);
    expect([repeat.status, repeat.json]).toEqual([202, { accepted: 0, duplicates: 5, rejected: 0, errors: [] }]);
    const r = await postEvents(app, mixed);
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json).toMatchObject({ accepted: 0, duplicates: 5, rejected: 4, errors: mixedErrors });
    const kpi = await get(app, `/v1/kpis/fire_response_coverage_5min?from=${q(at(0))}&to=${q(at(3600))}`);
    expect(kpi.json).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // Duplicates within one batch count too.
    const again = await postEvents(app, [deep('d1', 500, 'P5'), deep('d1', 500, 'P5')]);
    expect(again.json).toEqual({ accepted: 1, duplicates: 1, rejected: 0, errors: [] });
  });

  it('refuses a reused incident id as `conflict`: answered, dead-lettered and counted in /metrics', async () => {
    const { app } = await startTestService();
    await postEvents(app, [received('c1', 0, 'F1', 'fire', HLG), dispatched('c2', 30, 'F1', 'U1', 'S1')]);
    const r = await postEvents(app, [received('c3', 120, 'F1', 'fire', TTYN)]);
    const error = expectError(r, 400, 'EVENTS_REJECTED');
    expect(error.code).toBe('EVENTS_REJECTED');
    const reason = `conflict: incident "F1" was already received; this one differs in time ${formatInZone(Date.parse(at(120)), 'Asia/Shanghai')} (counted: ${formatInZone(Date.parse(at(0)), 'Asia/Shanghai')}), district "${TTYN}" (counted: "${HLG}")`;
    expect(r.json.errors).toEqual([{ index: 0, id: 'c3', reason }]);
    const dl = await get(app, '/v1/dead-letters');
    expect(dl.json.items.map((d: { eventId: string; reason: string }) => [d.eventId, d.reason])).toEqual([['c3', reason]]);
    const metrics = (await call(app, 'GET', '/metrics')).body;
    expect(metrics).toContain('huitian_events_conflict_total{type="huitian.dispatch.received"} 1');
    // The same call again under a new id is an identical repeat: accepted, as before.
    expect((await postEvents(app, [received('c4', 0, 'F1', 'fire', HLG)])).json).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('answers 400 EVENTS_REJECTED in the same shape when every event is invalid', async () => {
    const { app } = await startTestService();
    const r = await postEvents(app, [waterlogging('x1', 0, 'P1', -1), { ...deep('x2', 0), specversion: '0.3' }]);
    const error = expectError(r, 400, 'EVENTS_REJECTED');
    expect(error.message).toBe('no event in the request could be accepted; see errors[] for each reason');
    expect(r.json).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: 2,
      errors: [
        { index: 0, id: 'x1', reason: 'data.depthCm: must be ≥ 0' },
        { index: 1, id: 'x2', reason: 'specversion: must be "1.0"' },
      ],
      error: { code: 'EVENTS_REJECTED', message: error.message },
    });
    const dl = await get(app, '/v1/dead-letters');
    expect(dl.json.items.map((d: { eventId: string }) => d.eventId)).toEqual(['x2', 'x1']);
  });

  it('answers 400 BODY_INVALID in the same shape for an unparseable body, and dead-letters it', async () => {
    const { app } = await startTestService();
    const body = '{"specversion": "1.0", "id": ';
    const r = await post(app, '/v1/events', { contentType: 'application/cloudevents+json', body });
    const error = expectError(r, 400, 'BODY_INVALID');
    expect(error.message).toMatch(/^the request body could not be parsed: invalid JSON \(/);
    expect(r.json.accepted).toBe(0);
    expect(r.json.duplicates).toBe(0);
    expect(r.json.rejected).toBe(1);
    expect(r.json.errors).toEqual([{ index: 0, id: null, reason: `(body): ${String(error.details)}` }]);
    const dl = await get(app, '/v1/dead-letters');
    expect(dl.json.items).toHaveLength(1);
    expect(dl.json.items[0]).toMatchObject({ eventId: null, reason: `(body): ${String(error.details)}`, payload: body });
  });

  it('answers 400 for an empty body and for an empty array', async () => {
    const { app } = await startTestService();
    let r = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: '\n  \n' });
    expectError(r, 400, 'BODY_INVALID');
    expect(r.json).toMatchObject({ accepted: 0, duplicates: 0, rejected: 0, errors: [] });
    r = await post(app, '/v1/events', { contentType: 'application/cloudevents-batch+json', body: [] });
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json).toMatchObject({ accepted: 0, duplicates: 0, rejected: 0, errors: [] });
    expect((await get(app, '/v1/dead-letters')).json.items).toEqual([]);
  });

  it('answers 413 PAYLOAD_TOO_LARGE above the body limit and accepts a body just under it', async () => {
    const { app } = await startTestService({ overrides: { bodyLimitBytes: 2048 } });
    const events = Array.from({ length: 40 }, (_, i) => deep(`big-${i}`, i, `P${i}`));
    const body = ndjson(events);
    expect(Buffer.byteLength(body)).toBeGreaterThan(2048);
    const r = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body });
    const error = expectError(r, 413, 'PAYLOAD_TOO_LARGE');
    expect(error.message).toBe('the request body is larger than 2048 bytes; split the batch');
    expect((await get(app, '/v1/dead-letters')).json.items).toEqual([]);

    const small = ndjson(events.slice(0, 8));
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(2048);
    const ok = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: small });
    expect([ok.status, ok.json.accepted]).toEqual([202, 8]);
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE for other content types', async () => {
    const { app } = await startTestService();
    for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const r = await post(app, '/v1/events', { contentType, body: JSON.stringify(deep('t1', 0)) });
      const error = expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(error.message).toContain(`content type ${contentType} is not accepted`);
    }
    expect((await alertsOf(app, 'P1'))).toEqual([]);
  });

  it('rejects events older than the watermark as late, dead-lettered with reason `late`', async () => {
    const { app, clock } = await startTestService();
    // Lateness 60 s: after an event at 600 s the watermark is 540 s.
    expect((await postEvents(app, [deep('l1', 600, 'P1')])).status).toBe(202);
    clock.advance(5_000);
    const late = deep('l2', 539, 'P2');
    let r = await postEvents(app, [late]);
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json).toMatchObject({ accepted: 0, duplicates: 0, rejected: 1, errors: [{ index: 0, id: 'l2', reason: 'late' }] });
    // At the watermark is not late; a late one beside a good one is one rejection in a 202.
    r = await postEvents(app, [deep('l3', 540, 'P3'), deep('l4', 100, 'P4')]);
    expect([r.status, r.json]).toEqual([202, { accepted: 1, duplicates: 0, rejected: 1, errors: [{ index: 1, id: 'l4', reason: 'late' }] }]);
    expect(await alertsOf(app, 'P2')).toEqual([]);
    expect(await alertsOf(app, 'P4')).toEqual([]);

    const dl = await get(app, '/v1/dead-letters');
    expect(dl.json.items.map((d: Record<string, unknown>) => [d.eventId, d.reason, d.type, d.receivedAt])).toEqual([
      ['l4', 'late', 'huitian.waterlogging.reading', '2026-07-21T09:00:05+08:00'],
      ['l2', 'late', 'huitian.waterlogging.reading', '2026-07-21T09:00:05+08:00'],
    ]);
    expect(JSON.parse(dl.json.items[1].payload)).toEqual(late);
  });
});

describe('GET /v1/dead-letters', () => {
  it('pages newest first with limit and cursor, and refuses a bad cursor or limit', async () => {
    const { app } = await startTestService();
    await postEvents(app, Array.from({ length: 5 }, (_, i) => waterlogging(`bad-${i}`, i, 'P1', -1)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(app, `/v1/dead-letters?limit=2${cursor === null ? '' : `&cursor=${q(cursor)}`}`);
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.items.map((d: { eventId: string }) => d.eventId));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(['bad-4', 'bad-3', 'bad-2', 'bad-1', 'bad-0']);

    expectError(await get(app, '/v1/dead-letters?cursor=not-a-cursor'), 400, 'VALIDATION_FAILED');
    expectError(await get(app, `/v1/dead-letters?cursor=${Buffer.from('["x"]').toString('base64url')}`), 400, 'VALIDATION_FAILED');
    expectError(await get(app, '/v1/dead-letters?limit=0'), 400, 'VALIDATION_FAILED');
    expectError(await get(app, '/v1/dead-letters?limit=501'), 400, 'VALIDATION_FAILED');
    expectError(await get(app, '/v1/dead-letters?limit=ten'), 400, 'VALIDATION_FAILED');
  });
});

describe('POST /v1/events: a bad record never costs its neighbours (issue 9)', () => {
  const DEEP = '['.repeat(5000) + ']'.repeat(5000);
  const DEPTH_REASON = '(event): nested deeper than 64 levels';

  async function deadLetters(app: Parameters<typeof get>[0]) {
    return (await get(app, '/v1/dead-letters')).json.items as Array<{ eventId: string | null; reason: string; payload: string }>;
  }

  it('refuses an array element nested 5,000 levels deep alone: the valid neighbours are accepted, the element dead-lettered as sent', async () => {
    const { app } = await startTestService();
    for (const contentType of ['application/json', 'application/cloudevents-batch+json']) {
      const body = `[${JSON.stringify(deep(`${contentType}-1`, 0, 'P1'))},${DEEP},${JSON.stringify(deep(`${contentType}-2`, 5, 'P2'))}]`;
      const r = await post(app, '/v1/events', { contentType, body });
      expect([r.status, r.json]).toEqual([202, { accepted: 2, duplicates: 0, rejected: 1, errors: [{ index: 1, id: null, reason: DEPTH_REASON }] }]);
    }
    expect((await alertsOf(app, 'P2')).length).toBe(1);
    const dl = await deadLetters(app);
    expect(dl.map((d) => [d.reason, d.payload])).toEqual([
      [DEPTH_REASON, DEEP],
      [DEPTH_REASON, DEEP],
    ]);
  });

  it('bounds nesting on every path: a single event, an NDJSON line, binary-mode data', async () => {
    const { app } = await startTestService();
    const single = JSON.stringify(deep('s1', 0, 'P1')).replace('"depthCm":30', `"depthCm":30,"extra":${DEEP}`);
    expect(single).toContain(DEEP);
    let r = await post(app, '/v1/events', { contentType: 'application/cloudevents+json', body: single });
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json.errors).toEqual([{ index: 0, id: null, reason: DEPTH_REASON }]);

    r = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: [JSON.stringify(deep('n1', 0, 'P1')), DEEP, single, JSON.stringify(deep('n2', 1, 'P2'))].join('\n') });
    expect([r.status, r.json.accepted, r.json.errors]).toEqual([
      202,
      2,
      [
        { index: 1, id: null, reason: DEPTH_REASON },
        { index: 2, id: null, reason: DEPTH_REASON },
      ],
    ]);

    const headers = { 'ce-specversion': '1.0', 'ce-id': 'b1', 'ce-source': '/s', 'ce-type': 'huitian.waterlogging.reading', 'ce-time': at(0) };
    r = await post(app, '/v1/events', { headers, contentType: 'application/json', body: `{"pointId":"P3","depthCm":1,"x":${DEEP}}` });
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json.errors).toEqual([{ index: 0, id: 'b1', reason: DEPTH_REASON }]);
  });

  it('refuses a record larger than 1 MiB alone', async () => {
    const { app } = await startTestService();
    const huge = JSON.stringify({ ...deep('h1', 0, 'P1'), data: { pointId: 'P1', depthCm: 1, name: 'x'.repeat(1024 * 1024) } });
    const r = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: `${huge}\n${JSON.stringify(deep('h2', 0, 'P2'))}\n` });
    expect([r.status, r.json.accepted, r.json.errors]).toEqual([202, 1, [{ index: 0, id: null, reason: '(event): larger than 1048576 bytes, the limit of one record' }]]);
  });

  it('keeps an element that is not JSON to itself, and refuses only an array whose own brackets are broken', async () => {
    const { app } = await startTestService();
    let r = await post(app, '/v1/events', { contentType: 'application/json', body: `[${JSON.stringify(deep('a1', 0, 'P1'))}, {"id": , "x": "[,]"} ,,${JSON.stringify(deep('a2', 1, 'P2'))},]` });
    expect(r.status).toBe(202);
    expect(r.json.accepted).toBe(2);
    expect(r.json.errors.map((e: { index: number; reason: string }) => [e.index, e.reason.slice(0, 23)])).toEqual([
      [1, '(event): invalid JSON ('],
      [2, '(event): invalid JSON ('],
      [4, '(event): invalid JSON ('],
    ]);
    expect((await deadLetters(app)).map((d) => d.payload)).toEqual(['', '', '{"id": , "x": "[,]"}']);
    for (const body of [`[${JSON.stringify(deep('a3', 2))}`, `[${JSON.stringify(deep('a4', 2))}] x`, '[{"id": "unterminated]']) {
      r = await post(app, '/v1/events', { contentType: 'application/json', body });
      expectError(r, 400, 'BODY_INVALID');
    }
  });

  it('dead-letters a refused record as the text received on every path, never re-encoded', async () => {
    const { app, clock } = await startTestService();
    expect((await postEvents(app, [deep('w', 600, 'P0')])).status).toBe(202);
    clock.advance(1000);
    // Late events as their producers wrote them: pretty-printed, time in UTC (the API would write +08:00).
    const late = (id: string) => {
      const text = JSON.stringify(deep(id, 0, 'P1'), null, 2).replace(/"time": "[^"]+"/, '"time": "2026-07-21T00:00:00.000Z"');
      expect(JSON.parse(text).time).not.toBe(deep(id, 0).time);
      return text;
    };
    const single = late('single');
    expectError(await post(app, '/v1/events', { contentType: 'application/cloudevents+json', body: single }), 400, 'EVENTS_REJECTED');
    const element = late('element');
    expect((await post(app, '/v1/events', { contentType: 'application/json', body: `[ ${element} ,\n${JSON.stringify(deep('ok', 600, 'P5'))} ]` })).status).toBe(202);
    const line = JSON.stringify(JSON.parse(late('line')));
    expectError(await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: `${line}\n` }), 400, 'EVENTS_REJECTED');
    const headers = { 'ce-specversion': '1.0', 'ce-id': 'bin', 'ce-source': '/sensors/waterlogging', 'ce-type': 'huitian.waterlogging.reading', 'ce-time': '2026-07-21T08%3A00%3A00%2B08%3A00' };
    const data = '{ "pointId": "P1", "depthCm": 30 }';
    expectError(await post(app, '/v1/events', { headers, contentType: 'application/json', body: data }), 400, 'EVENTS_REJECTED');

    const byId = new Map((await deadLetters(app)).map((d) => [d.eventId, d]));
    expect(byId.get('single')).toMatchObject({ reason: 'late', payload: single });
    expect(byId.get('element')).toMatchObject({ reason: 'late', payload: element });
    expect(byId.get('line')).toMatchObject({ reason: 'late', payload: line });
    expect(byId.get('bin')!.reason).toBe('late');
    expect(byId.get('bin')!.payload).toBe(
      [
        'ce-specversion: 1.0',
        'ce-id: bin',
        'ce-source: /sensors/waterlogging',
        'ce-type: huitian.waterlogging.reading',
        'ce-time: 2026-07-21T08%3A00%3A00%2B08%3A00',
        'content-type: application/json',
        '',
        data,
      ].join('\n'),
    );
  });

  it('answers 400 when every event is refused as late, repeats of accepted events beside them or not', async () => {
    const { app, clock } = await startTestService();
    expect((await postEvents(app, [deep('w1', 600, 'P0'), deep('w2', 610, 'P1')])).status).toBe(202);
    clock.advance(1000);
    let r = await postEvents(app, [deep('w1', 600, 'P0'), deep('late-1', 10, 'P2'), deep('late-2', 20, 'P3')]);
    expectError(r, 400, 'EVENTS_REJECTED');
    expect(r.json).toMatchObject({ accepted: 0, duplicates: 1, rejected: 2 });
    r = await post(app, '/v1/events', { contentType: 'application/json', body: [deep('late-3', 10, 'P2'), deep('late-4', 20, 'P3')] });
    expectError(r, 400, 'EVENTS_REJECTED');
    // Nothing but repeats refused nothing: the retry of an accepted batch.
    r = await postEvents(app, [deep('w1', 600, 'P0'), deep('w2', 610, 'P1')]);
    expect([r.status, r.json]).toEqual([202, { accepted: 0, duplicates: 2, rejected: 0, errors: [] }]);
  });
});
