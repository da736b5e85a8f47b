/**
 * The OpenAPI 3.1 document (/docs/json) as a client generator reads it: every route with
 * an operation id, an English summary and a Chinese description; security that matches
 * what the server enforces; the request body of POST /v1/events with the event schemas;
 * parameters with formats and enums; error statuses with their codes. And the checker
 * that holds every HTTP test's answers to the document (tests/helpers/openapi-conformance.ts)
 * finds what it is meant to find.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { EVENT_TYPES } from '../../src/events/schemas.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { OpenApiConformance, type OpenApiDocument } from '../helpers/openapi-conformance.js';
import { get, postEvents, startTestService, TOKENS, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

type Op = {
  operationId: string;
  summary: string;
  description: string;
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; schema: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, unknown>; headers?: Record<string, unknown>; 'x-error-codes'?: ErrorCode[] }>;
};

async function documentOf(options: Parameters<typeof startTestService>[0] = {}) {
  const ts = await startTestService(options);
  const doc = (await get(ts.app, '/docs/json')).json as OpenApiDocument & { openapi: string; paths: Record<string, Record<string, Op>> };
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  return { ts, doc, ops };
}

// The probes, and the console's page and assets (its data still needs a token).
const OPEN = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /', 'GET /console', 'GET /console/', 'GET /console/{file}'];
const CJK = /[\u4e00-\u9fff]/;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with an operation id, an English summary and a Chinese description per operation', async () => {
    const { doc, ops } = await documentOf();
    expect(doc.openapi).toBe('3.1.0');
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      const where = `${method} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary, where).toMatch(/^[\x20-\x7e]+$/);
      expect(op.description, where).toMatch(CJK);
      for (const [status, r] of Object.entries(op.responses)) {
        expect(r.description, `${where} ${status}`).not.toBe('Default Response');
        // Redirects and 304 Not Modified carry no body.
        if (!['301', '302', '304'].includes(status)) expect(Object.keys(r.content ?? {}).length, `${where} ${status} has a body schema`).toBeGreaterThan(0);
      }
    }
  });

  it('lists the fastify routes, no more and no fewer (documentation pages and HEAD aside)', async () => {
    const { ts, ops } = await documentOf();
    const routes: string[] = [];
    const printed = ts.app.printRoutes({ commonPrefix: false, includeHooks: false });
    expect(printed.length).toBeGreaterThan(0);
    for (const { path, method } of ops) routes.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    for (const r of routes) {
      const [method, url] = r.split(' ') as [string, string];
      expect(ts.app.hasRoute({ method: method as 'GET', url }), r).toBe(true);
    }
    // Every /v1 and probe route fastify knows is documented.
    const known = ['/healthz', '/readyz', '/metrics', '/v1/events', '/v1/alerts', '/v1/alerts/stream', '/v1/alerts/:id', '/v1/alerts/:id/ack', '/v1/alerts/:id/resolve', '/v1/kpis', '/v1/kpis/:name', '/v1/kpis/:name/series', '/v1/dead-letters'];
    for (const url of known) expect(routes.some((r) => r.endsWith(` ${url}`)), url).toBe(true);
  });

  it('declares security per operation: the probes open, every /v1 route a bearer token — as the server enforces it', async () => {
    const { ts, ops } = await documentOf({ auth: true });
    for (const { path, method, op } of ops) {
      const key = `${method.toUpperCase()} ${path}`;
      if (OPEN.includes(key)) {
        expect(op.security, key).toEqual([]);
        expect(op.responses['401'], key).toBeUndefined();
      } else {
        expect(op.security, key).toEqual([{ bearer: [] }]);
        expect(op.responses['401']?.['x-error-codes'], key).toEqual(['UNAUTHORIZED']);
        expect(op.responses['403']?.['x-error-codes'], key).toEqual(['FORBIDDEN']);
      }
    }
    expect((await get(ts.app, '/healthz')).status).toBe(200);
    expect((await get(ts.app, '/metrics')).status).toBe(200);
    expect((await get(ts.app, '/v1/kpis')).status).toBe(401);
    expect((await get(ts.app, '/v1/kpis', { token: TOKENS.ingest })).status).toBe(403);
  });

  it('documents every content type of POST /v1/events with the event schemas', async () => {
    const { doc, ops } = await documentOf();
    const ingest = ops.find((o) => o.op.operationId === 'ingestEvents')!.op;
    const content = ingest.requestBody!.content;
    expect(Object.keys(content).sort()).toEqual(['application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json', 'application/x-ndjson']);
    expect(content['application/cloudevents+json']!.schema).toEqual({ $ref: '#/components/schemas/CloudEvent' });
    expect(content['application/cloudevents-batch+json']!.schema).toEqual({ type: 'array', items: { $ref: '#/components/schemas/CloudEvent' } });
    const schemas = doc.components!.schemas!;
    const oneOf = (schemas.CloudEvent as { oneOf: Array<{ $ref: string }> }).oneOf.map((r) => r.$ref);
    expect(oneOf).toEqual(EVENT_TYPES.map((t) => `#/components/schemas/CloudEvent.${t}`));
    const wl = schemas['CloudEvent.huitian.waterlogging.reading'] as { properties: { type: unknown; data: { properties: { depthCm: unknown } } }; required: string[] };
    expect(wl.properties.type).toEqual({ type: 'string', const: 'huitian.waterlogging.reading' });
    expect(wl.properties.data.properties.depthCm).toMatchObject({ type: 'number', minimum: 0, maximum: 1000 });
    expect(wl.required).toEqual(expect.arrayContaining(['specversion', 'id', 'source', 'type', 'time', 'data']));
    expect(Object.keys(ingest.responses).sort()).toEqual(['202', '400', '401', '403', '413', '415', '429', '500', '503']);
    expect(ingest.responses['429']!.headers).toHaveProperty('Retry-After');
  });

  it('gives query parameters their formats and enums', async () => {
    const { ops } = await documentOf();
    const param = (operationId: string, name: string) => ops.find((o) => o.op.operationId === operationId)!.op.parameters!.find((p) => p.name === name)!.schema;
    expect(param('getKpi', 'from')).toMatchObject({ type: 'string', format: 'date-time' });
    expect(param('getKpiSeries', 'to')).toMatchObject({ type: 'string', format: 'date-time' });
    expect(param('getKpiSeries', 'step')).toMatchObject({ enum: ['1m', '5m', '1h', '1d'], default: '1h' });
    expect(param('listAlerts', 'status')).toMatchObject({ enum: ['open', 'acknowledged', 'resolved', 'active'] });
    expect(param('listAlerts', 'severity')).toMatchObject({ enum: ['blue', 'yellow', 'orange', 'red'] });
    expect(param('listAlerts', 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
  });

  it('lists with each error status the codes it carries, each code of that status', async () => {
    const { ops } = await documentOf();
    for (const { path, method, op } of ops) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) < 400) {
          expect(r['x-error-codes'], `${method} ${path} ${status}`).toBeUndefined();
          continue;
        }
        expect(r['x-error-codes']!.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        for (const code of r['x-error-codes']!) expect(ERROR_CODES[code].status, `${method} ${path} ${status} ${code}`).toBe(Number(status));
        if (status === '503' || status === '429') expect(r.headers, `${method} ${path} ${status}`).toHaveProperty('Retry-After');
      }
    }
    const getAlert = ops.find((o) => o.op.operationId === 'getAlert')!.op;
    expect(getAlert.responses['404']!['x-error-codes']).toEqual(['ALERT_NOT_FOUND']);
  });
});

describe('the conformance check of every HTTP test', () => {
  it('passes a conforming answer and names each way an answer can fail its document', async () => {
    const { ts, doc } = await documentOf();
    await postEvents(ts.app, [waterlogging('c1', 0, 'P1', 30, HLG)]);
    const alerts = await get(ts.app, '/v1/alerts');
    const check = new OpenApiConformance(doc);
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const answer = (method: string, url: string, status: number, body: unknown, headers: Record<string, unknown> = json) => ({
      method,
      url,
      status,
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const err = (code: string) => ({ error: { code, message: 'm' } });
    expect(check.check(answer('GET', '/v1/alerts?limit=1', 200, alerts.json))).toEqual([]);
    expect(check.check(answer('GET', '/v1/alerts', 418, err('INTERNAL')))[0]).toMatch(/status 418 is not declared/);
    expect(check.check(answer('GET', '/v1/alerts', 200, { items: [{ id: 'x' }], nextCursor: null }))[0]).toMatch(/does not match the declared schema: \/items\/0 must have required property/);
    expect(check.check(answer('GET', '/v1/alerts', 200, { ...alerts.json, extra: 1 }))[0]).toMatch(/must NOT have additional properties/);
    expect(check.check(answer('GET', '/v1/alerts', 200, '<html>', { 'content-type': 'text/html' }))[0]).toMatch(/content type text\/html is not declared/);
    expect(check.check(answer('GET', '/v1/alerts/x', 404, err('KPI_NOT_FOUND')))[0]).toMatch(/error code KPI_NOT_FOUND is not one this status declares \(ALERT_NOT_FOUND\)/);
    expect(check.check(answer('GET', '/v1/kpis/x', 503, err('STORE_UNAVAILABLE')))[0]).toMatch(/required header Retry-After is missing/);
    expect(check.check(answer('GET', '/v1/kpis/x', 503, err('STORE_UNAVAILABLE'), { ...json, 'retry-after': '5' }))).toEqual([]);
    expect(check.check(answer('DELETE', '/v1/kpis', 404, err('NOT_FOUND')))[0]).toMatch(/only 405 METHOD_NOT_ALLOWED/);
    expect(check.check(answer('DELETE', '/v1/kpis', 405, err('METHOD_NOT_ALLOWED'), { ...json, allow: 'PUT' }))[0]).toMatch(/Allow \(PUT\) lacks GET/);
    expect(check.check(answer('GET', '/v2/nothing', 400, err('VALIDATION_FAILED')))[0]).toMatch(/not in the OpenAPI document/);
    expect(check.check(answer('GET', '/v1/alerts/stream', 200, 'data', { 'content-type': 'text/event-stream' }))).toEqual([]);
  });

  it('records an answer the document does not declare, which fails the test that caused it', async () => {
    const ts = await startTestService();
    ts.app.get('/v1/teapot', async (_request, reply) => reply.code(418).send({ tea: true }));
    expect((await get(ts.app, '/v1/teapot')).status).toBe(418);
    // A route declared without route() gets @fastify/swagger's lone default 200.
    expect(ts.nonConforming).toEqual(['GET /v1/teapot → 418: status 418 is not declared (declared: 200)']);
    ts.nonConforming.length = 0; // seen; this test is about the recording itself
  });
});
