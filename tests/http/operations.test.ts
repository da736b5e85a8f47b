/**
 * Probes, metrics, the OpenAPI document, unknown routes, and the error answers that do
 * not belong to one route: INTERNAL, NOT_READY and STORE_UNAVAILABLE, none with a stack.
 */
import { describe, expect, it } from 'vitest';
import { at, HLG, TTYN, waterlogging } from '../helpers/events.js';
import { assertNoLeak, call, expectError, get, post, postEvents, startTestService, useServiceCleanup, WALL_START } from '../helpers/service.js';

useServiceCleanup();

/** The value of one sample line of the Prometheus text, e.g. `name{a="b"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('probes', () => {
  it('GET /healthz answers 200 while the process is up', async () => {
    const { app } = await startTestService();
    const r = await get(app, '/healthz');
    expect([r.status, r.json]).toEqual([200, { status: 'ok' }]);
  });

  it('GET /readyz answers 200 with the checks and the engine stats', async () => {
    const { app } = await startTestService();
    await postEvents(app, [waterlogging('r1', 0, 'P1', 30, HLG), waterlogging('r2', 120, 'P2', 1, HLG)]);
    const r = await get(app, '/readyz');
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('ready');
    expect(r.json.checks).toEqual(['store']);
    // Times as RFC 3339 in Beijing time, not epoch milliseconds.
    expect(r.json.stats).toMatchObject({ accepted: 2, duplicates: 0, late: 0, activeAlerts: 1, maxEventTime: '2026-07-21T08:02:00+08:00', watermark: '2026-07-21T08:01:00+08:00' });
    expect(at(60)).toBe('2026-07-21T08:01:00+08:00');
  });

  it('GET /readyz writes the watermark in the configured zone', async () => {
    const { app } = await startTestService({ env: { HUITIAN_TIMEZONE: 'Europe/Berlin' } });
    await postEvents(app, [waterlogging('r1', 0, 'P1', 1, HLG), waterlogging('r2', 120, 'P2', 1, HLG)]);
    expect((await get(app, '/readyz')).json.stats).toMatchObject({ watermark: '2026-07-21T02:01:00+02:00', maxEventTime: '2026-07-21T02:02:00+02:00' });
  });

  it('GET /v1/status answers the freshness of the data and each check, ready or not', async () => {
    const ts = await startTestService();
    const app = ts.app;
    let r = await get(app, '/v1/status');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      caller: null,
      auth: false,
      timeZone: 'Asia/Shanghai',
      timeMode: 'replay',
      now: '2026-07-21T09:00:00+08:00',
      ready: true,
      checks: [{ name: 'store', ready: true, problem: null }],
      watermark: null,
      maxEventTime: null,
      lagSeconds: null,
      activeAlerts: 0,
    });
    await postEvents(app, [waterlogging('s1', 0, 'P1', 30, HLG), waterlogging('s2', 120, 'P2', 1, HLG)]);
    const db = ts.service.store.db as unknown as { prepare: unknown };
    const prepare = db.prepare;
    db.prepare = () => {
      throw new Error('disk I/O error');
    };
    try {
      r = await get(app, '/v1/status');
    } finally {
      db.prepare = prepare;
    }
    expect(r.status).toBe(200);
    // The wall clock is 09:00, the newest event 08:02: 58 minutes behind.
    expect(r.json).toMatchObject({
      ready: false,
      checks: [{ name: 'store', ready: false, problem: 'disk I/O error' }],
      watermark: '2026-07-21T08:01:00+08:00',
      maxEventTime: '2026-07-21T08:02:00+08:00',
      lagSeconds: 58 * 60,
      activeAlerts: 1,
    });
  });

  it('GET /readyz answers 503 NOT_READY naming the failing check', async () => {
    const ts = await startTestService();
    const db = ts.service.store.db as unknown as { prepare: unknown };
    const prepare = db.prepare;
    db.prepare = () => {
      throw new Error('disk I/O error');
    };
    try {
      const error = expectError(await get(ts.app, '/readyz'), 503, 'NOT_READY');
      expect(error.message).toBe('the service is not ready: store: disk I/O error');
      expect(error.details).toEqual({ store: 'disk I/O error' });
    } finally {
      db.prepare = prepare;
    }
    expect((await get(ts.app, '/readyz')).status).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('exposes event counters by type, alerts by severity and status, lag and HTTP latency', async () => {
    const { app, clock } = await startTestService();
    await postEvents(app, [
      waterlogging('m1', 0, 'P1', 30, HLG), // accepted, opens an orange alert
      waterlogging('m2', 600, 'P2', 45, TTYN), // accepted, opens a red alert
      waterlogging('m3', 10, 'P3', -1, HLG), // invalid
      'not json', // invalid, type unknown
      waterlogging('m1', 0, 'P1', 30, HLG), // duplicate
      waterlogging('m4', 100, 'P4', 1, HLG), // late: the watermark is at 540 s
    ]);
    const alerts = await get(app, '/v1/alerts?severity=orange');
    await post(app, `/v1/alerts/${alerts.json.items[0].id}/ack`, { body: { by: '张伟' } });
    clock.advance(90_000);

    const r = await call(app, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = r.body;
    const wl = 'type="huitian.waterlogging.reading"';
    expect(sample(m, `huitian_events_in_total{${wl}}`)).toBe(5);
    expect(sample(m, 'huitian_events_in_total{type="invalid"}')).toBe(1);
    expect(sample(m, `huitian_events_accepted_total{${wl}}`)).toBe(2);
    expect(sample(m, `huitian_events_rejected_total{${wl}}`)).toBe(1);
    expect(sample(m, 'huitian_events_rejected_total{type="invalid"}')).toBe(1);
    expect(sample(m, `huitian_events_duplicate_total{${wl}}`)).toBe(1);
    expect(sample(m, `huitian_events_late_total{${wl}}`)).toBe(1);
    expect(sample(m, 'huitian_alerts{severity="orange",status="acknowledged"}')).toBe(1);
    expect(sample(m, 'huitian_alerts{severity="red",status="open"}')).toBe(1);
    expect(sample(m, 'huitian_alerts{severity="red",status="acknowledged"}')).toBeUndefined();
    expect(sample(m, 'huitian_watermark_timestamp_seconds')).toBe(Date.parse(at(540)) / 1000);
    expect(sample(m, 'huitian_watermark_seconds'), 'the deprecated name keeps answering').toBe(Date.parse(at(540)) / 1000);
    // Wall clock (09:01:30) minus the newest event time (08:10:00).
    expect(sample(m, 'huitian_pipeline_lag_seconds')).toBe((WALL_START + 90_000 - Date.parse(at(600))) / 1000);
    expect(sample(m, 'huitian_http_request_duration_seconds_count{method="POST",route="/v1/events",status="202"}')).toBe(1);
    expect(sample(m, 'huitian_http_request_duration_seconds_count{method="GET",route="/v1/alerts",status="200"}')).toBe(1);
    expect(sample(m, 'huitian_http_request_duration_seconds_count{method="POST",route="/v1/alerts/:id/ack",status="200"}')).toBe(1);
    expect(m).toMatch(/^huitian_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/events",status="202"\} \d+$/m);
    expect(m).toContain('# TYPE huitian_http_request_duration_seconds histogram');
    expect(m).toContain('# TYPE huitian_events_in_total counter');
    expect(m).toContain('# TYPE huitian_alerts gauge');
    // Process metrics (prom-client defaults) come under the huitian_process_ prefix.
    expect(m).toMatch(/^huitian_process_\w*resident_memory_bytes \d+$/m);
  });

  it('keeps one registry per service, so two services do not share counts', async () => {
    const a = await startTestService();
    const b = await startTestService();
    await postEvents(a.app, [waterlogging('x', 0, 'P1', 1, HLG)]);
    expect(sample((await call(a.app, 'GET', '/metrics')).body, 'huitian_events_in_total{type="huitian.waterlogging.reading"}')).toBe(1);
    expect(sample((await call(b.app, 'GET', '/metrics')).body, 'huitian_events_in_total{type="huitian.waterlogging.reading"}')).toBeUndefined();
  });
});

describe('OpenAPI', () => {
  it('serves the OpenAPI document at /docs/json listing every route, and the UI at /docs', async () => {
    const { app } = await startTestService();
    const r = await get(app, '/docs/json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toMatch(/^3\./);
    expect(r.json.info.title).toBe('huitian-brain API');
    const routes = Object.entries(r.json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'POST /v1/events',
        'GET /v1/alerts',
        'GET /v1/alerts/stream',
        'GET /v1/alerts/{id}',
        'POST /v1/alerts/{id}/ack',
        'POST /v1/alerts/{id}/resolve',
        'GET /v1/kpis',
        'GET /v1/kpis/{name}',
        'GET /v1/kpis/{name}/series',
        'GET /v1/dead-letters',
        'GET /v1/alerts/summary',
        'GET /v1/alerts/cap',
        'GET /v1/alerts/{id}/cap',
        'GET /v1/notifications',
        'POST /v1/silences',
        'GET /v1/silences',
        'GET /v1/silences/{id}',
        'DELETE /v1/silences/{id}',
        'GET /v1/status',
        'GET /v1/targets',
        'GET /',
        'GET /console',
        'GET /console/',
        'GET /console/{file}',
      ].sort(),
    );
    const listParams = (r.json.paths['/v1/alerts'].get.parameters as Array<{ name: string }>).map((p) => p.name);
    expect(listParams.sort()).toEqual(['category', 'cursor', 'district', 'entityId', 'limit', 'severity', 'status']);
    const ui = await call(app, 'GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});

describe('error answers', () => {
  it('answers 404 NOT_FOUND for an unknown route, without the query string', async () => {
    const { app } = await startTestService();
    let error = expectError(await get(app, '/v2/alerts?token=secret'), 404, 'NOT_FOUND');
    expect(error.message).toBe('no route GET /v2/alerts');
    // An empty path parameter is no such thing, not an invalid request.
    expectError(await get(app, '/v1/kpis/'), 404, 'KPI_NOT_FOUND');
    expectError(await get(app, '/v1/alerts/'), 404, 'ALERT_NOT_FOUND');
  });

  it('answers 405 METHOD_NOT_ALLOWED with Allow for a known path asked with another method', async () => {
    const { app } = await startTestService();
    let r = await call(app, 'POST', '/v1/kpis', { body: {} });
    let error = expectError(r, 405, 'METHOD_NOT_ALLOWED');
    expect(error.message).toBe('POST is not allowed on /v1/kpis; allowed: GET, HEAD');
    expect(r.headers.allow).toBe('GET, HEAD');
    r = await app.inject({ method: 'DELETE', url: '/v1/alerts/al_1/ack?x=1' }).then((res) => ({ status: res.statusCode, headers: res.headers, body: res.body, json: res.json() }));
    error = expectError(r, 405, 'METHOD_NOT_ALLOWED');
    expect([r.headers.allow, error.message]).toEqual(['POST', 'DELETE is not allowed on /v1/alerts/al_1/ack; allowed: POST']);
    // A path matched by two routes allows what either allows (/v1/alerts/stream is also /v1/alerts/:id).
    r = await app.inject({ method: 'PUT', url: '/v1/alerts/stream' }).then((res) => ({ status: res.statusCode, headers: res.headers, body: res.body, json: res.json() }));
    expect([r.status, r.headers.allow]).toEqual([405, 'GET, HEAD']);
    r = await app.inject({ method: 'OPTIONS', url: '/v1/events' }).then((res) => ({ status: res.statusCode, headers: res.headers, body: res.body, json: res.json() }));
    expect([r.status, r.headers.allow]).toEqual([405, 'POST']);
    // Found by schemathesis: a method with a body and no content type was refused as a bad
    // body (400) before the route was looked up.
    for (const url of ['/healthz', '/v1/kpis/x/series']) {
      r = await app.inject({ method: 'QUERY' as 'GET', url }).then((res) => ({ status: res.statusCode, headers: res.headers, body: res.body, json: res.json() }));
      expect([r.status, r.headers.allow, r.json.error.code], url).toEqual([405, 'GET, HEAD', 'METHOD_NOT_ALLOWED']);
    }
    r = await app.inject({ method: 'QUERY' as 'GET', url: '/nowhere' }).then((res) => ({ status: res.statusCode, headers: res.headers, body: res.body, json: res.json() }));
    expect([r.status, r.json.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('ignores a body of any content type sent to a route that takes none (found by schemathesis: 415 was undeclared)', async () => {
    const { app } = await startTestService();
    const r = await app.inject({ method: 'DELETE', url: '/v1/silences/0', payload: 'x', headers: { 'content-type': 'text/plain' } });
    expect([r.statusCode, r.json().error.code]).toEqual([404, 'SILENCE_NOT_FOUND']);
  });

  it('answers 500 INTERNAL with a reference and no stack trace, message or path of the cause', async () => {
    const ts = await startTestService();
    const store = ts.service.store as unknown as { listAlerts: unknown };
    store.listAlerts = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'doc') at /work/main/src/sqlite/embedded-store.ts:291");
    };
    const r = await get(ts.app, '/v1/alerts');
    const error = expectError(r, 500, 'INTERNAL');
    expect(error.message).toMatch(/^internal error; the event was not lost if the request is retried \(reference req-[0-9a-z]+\)$/);
    expect(r.body).not.toContain('Cannot read');
    expect(r.body).not.toContain('TypeError');
    expect(error.details).toBeUndefined();
  });

  it('answers 503 STORE_UNAVAILABLE when a durable commit fails, and refuses further writes', async () => {
    const ts = await startTestService();
    await postEvents(ts.app, [waterlogging('s0', 0, 'P0', 30, HLG)]);
    const id = (await get(ts.app, '/v1/alerts')).json.items[0].id as string;
    const store = ts.service.store as unknown as { commit: unknown };
    store.commit = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    let error = expectError(await postEvents(ts.app, [waterlogging('s1', 10, 'P1', 30, HLG)]), 503, 'STORE_UNAVAILABLE');
    expect(error.message).toBe('a store is unavailable: SQLITE_FULL: database or disk is full');
    // Once a commit failed the engine is ahead of the store: nothing more is accepted.
    error = expectError(await postEvents(ts.app, [waterlogging('s2', 20, 'P2', 30, HLG)]), 503, 'STORE_UNAVAILABLE');
    expectError(await post(ts.app, `/v1/alerts/${id}/ack`, { body: { by: '张伟' } }), 503, 'STORE_UNAVAILABLE');
    // Reads still answer from what was stored.
    expect((await get(ts.app, '/v1/alerts')).json.items.map((a: { entityId: string }) => a.entityId)).toEqual(['P0']);
  });

  it('answers 503 STORE_UNAVAILABLE with Retry-After when the KPI store refuses or fails, never 500', async () => {
    // Nothing listens on port 1: InfluxDB refuses every connection.
    const ts = await startTestService({ env: { HUITIAN_INFLUX_URL: 'http://127.0.0.1:1' } });
    for (const url of ['/v1/kpis/fire_response_coverage_5min', '/v1/kpis/parking_occupancy_rate?groupBy=district', '/v1/kpis/waterlogging_max_depth_cm/series?step=1h']) {
      const r = await get(ts.app, url);
      const error = expectError(r, 503, 'STORE_UNAVAILABLE');
      expect(error.message, url).toMatch(/^a store is unavailable: the KPI store did not answer: /);
      expect(r.headers['retry-after'], url).toBe('5');
    }
    // Any failure of the store, not only a refused connection.
    const embedded = await startTestService();
    (embedded.service.store as unknown as { partialRows: unknown }).partialRows = async () => {
      throw new Error('timeout');
    };
    expectError(await get(embedded.app, '/v1/kpis/fire_response_coverage_5min'), 503, 'STORE_UNAVAILABLE');
  });

  it('never puts a stack trace or a source path into a body, whatever the request', async () => {
    const { app } = await startTestService();
    const bodies: string[] = [];
    for (const [method, url, payload, type] of [
      ['POST', '/v1/events', '{', 'application/json'],
      ['POST', '/v1/events', '[1, "x", null, {"specversion": 1}]', 'application/cloudevents-batch+json'],
      ['POST', '/v1/events', 'x'.repeat(100), 'text/plain'],
      ['POST', '/v1/alerts/x/ack', '{"by": 1}', 'application/json'],
      ['POST', '/v1/alerts/x/ack', '{', 'application/json'],
      ['GET', '/v1/alerts?limit=-1&status=x&cursor=%%', undefined, undefined],
      ['GET', '/v1/kpis/x/series?window=%00', undefined, undefined],
      ['GET', '/v1/kpis/fire_response_coverage_5min?from=2026-13-45T99:99:99Z&groupBy=,,', undefined, undefined],
      ['GET', '/v1/dead-letters?cursor=%FF%FE', undefined, undefined],
    ] as const) {
      const res = await app.inject({ method, url, payload, headers: type === undefined ? {} : { 'content-type': type } });
      expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      assertNoLeak(res.body);
      const body = res.json() as { error: { code: string; message: string } };
      expect(typeof body.error.code).toBe('string');
      bodies.push(body.error.code);
    }
    expect(bodies).toEqual([
      'BODY_INVALID',
      'EVENTS_REJECTED',
      'UNSUPPORTED_MEDIA_TYPE',
      'VALIDATION_FAILED',
      'BODY_INVALID',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
    ]);
  });
});
