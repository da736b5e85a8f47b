/**
 * Bearer tokens with roles: every /v1 route × every role (table), 401 without or with an
 * unknown token, 403 for a role that may not; probes stay open; no tokens means loopback
 * only; the ingest rate limit answers 429 with Retry-After.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, ROLES, type Role } from '../../src/config.js';
import { HuitianError } from '../../src/errors.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { SseClient } from '../helpers/sse.js';
import { call, expectError, get, postEvents, startTestService, TOKENS, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();
const streams: SseClient[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});

type Action = 'read' | 'operate' | 'ingest';
const ALLOWED: Record<Action, readonly Role[]> = {
  read: ['viewer', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  ingest: ['ingest', 'admin'],
};

let eventSeq = 0;
/** Opens a fresh alert (a 30 cm reading at a new point) and returns its id. */
async function openAlert(app: FastifyInstance): Promise<string> {
  const n = ++eventSeq;
  const r = await postEvents(app, [waterlogging(`auth-${n}`, n, `A${n}`, 30, HLG)], TOKENS.admin);
  expect(r.status).toBe(202);
  const list = await get(app, `/v1/alerts?entityId=A${n}`, { token: TOKENS.admin });
  return list.json.items[0].id as string;
}

interface RouteCase {
  method: 'GET' | 'POST';
  path: string;
  action: Action;
  okStatus: number;
  /** Builds the request (url and body) against a running app. */
  prepare: (app: FastifyInstance) => Promise<{ url: string; body?: unknown; contentType?: string }>;
}

const KPI_RANGE = 'from=2026-07-21T00:00:00Z&to=2026-07-22T00:00:00Z';
const ROUTES: RouteCase[] = [
  {
    method: 'POST',
    path: '/v1/events',
    action: 'ingest',
    okStatus: 202,
    prepare: async () => {
      const n = ++eventSeq;
      return { url: '/v1/events', contentType: 'application/cloudevents+json', body: waterlogging(`ing-${n}`, n, 'I1', 1, HLG) };
    },
  },
  { method: 'GET', path: '/v1/alerts', action: 'read', okStatus: 200, prepare: async () => ({ url: '/v1/alerts?status=active' }) },
  { method: 'GET', path: '/v1/alerts/:id', action: 'read', okStatus: 200, prepare: async (app) => ({ url: `/v1/alerts/${await openAlert(app)}` }) },
  {
    method: 'POST',
    path: '/v1/alerts/:id/ack',
    action: 'operate',
    okStatus: 200,
    prepare: async (app) => ({ url: `/v1/alerts/${await openAlert(app)}/ack`, body: { by: '张伟' } }),
  },
  {
    method: 'POST',
    path: '/v1/alerts/:id/resolve',
    action: 'operate',
    okStatus: 200,
    prepare: async (app) => ({ url: `/v1/alerts/${await openAlert(app)}/resolve`, body: { by: '张伟', note: '已处置' } }),
  },
  { method: 'GET', path: '/v1/alerts/stream', action: 'read', okStatus: 200, prepare: async () => ({ url: '/v1/alerts/stream' }) },
  { method: 'GET', path: '/v1/kpis', action: 'read', okStatus: 200, prepare: async () => ({ url: '/v1/kpis' }) },
  {
    method: 'GET',
    path: '/v1/kpis/:name',
    action: 'read',
    okStatus: 200,
    prepare: async () => ({ url: `/v1/kpis/fire_response_coverage_5min?${KPI_RANGE}&groupBy=district` }),
  },
  {
    method: 'GET',
    path: '/v1/kpis/:name/series',
    action: 'read',
    okStatus: 200,
    prepare: async () => ({ url: `/v1/kpis/waterlogging_max_depth_cm/series?${KPI_RANGE}&step=1h` }),
  },
  { method: 'GET', path: '/v1/dead-letters', action: 'read', okStatus: 200, prepare: async () => ({ url: '/v1/dead-letters?limit=5' }) },
  { method: 'GET', path: '/v1/status', action: 'read', okStatus: 200, prepare: async () => ({ url: '/v1/status' }) },
  { method: 'GET', path: '/v1/targets', action: 'read', okStatus: 200, prepare: async () => ({ url: `/v1/targets?${KPI_RANGE}` }) },
];

const TABLE = ROUTES.flatMap((route) => ROLES.map((role) => ({ route, role, allowed: ALLOWED[route.action].includes(role) })));

describe('every /v1 route × every role', () => {
  it.each(TABLE.map((c) => [`${c.route.method} ${c.route.path} as ${c.role} → ${c.allowed ? c.route.okStatus : 403}`, c] as const))(
    '%s',
    async (_name, { route, role, allowed }) => {
      const ts = await startTestService({ auth: true });
      const { url, body, contentType } = await route.prepare(ts.app);
      if (allowed && route.path === '/v1/alerts/stream') {
        // A stream never ends, so it is read over a real connection.
        const base = await ts.app.listen({ port: 0, host: '127.0.0.1' });
        const s = await SseClient.open(`${base}${url}`, { authorization: `Bearer ${TOKENS[role]}` });
        streams.push(s);
        expect(s.status).toBe(200);
        return;
      }
      const r = await call(ts.app, route.method, url, { token: TOKENS[role], body, contentType });
      if (allowed) {
        expect(r.status, r.body).toBe(route.okStatus);
      } else {
        const error = expectError(r, 403, 'FORBIDDEN');
        const needed = route.action === 'read' ? 'viewer' : route.action === 'operate' ? 'operator' : 'ingest';
        expect(error.message).toBe(`role ${role} may not ${route.action}; ask for a token with role ${needed}`);
      }
    },
  );
});

describe('401 UNAUTHORIZED', () => {
  it('refuses every /v1 route without a token, with an unknown token or another scheme', async () => {
    const ts = await startTestService({ auth: true });
    for (const route of ROUTES) {
      const { url, body, contentType } = await route.prepare(ts.app);
      for (const headers of [
        {} as Record<string, string>,
        { authorization: 'Bearer not-a-configured-token' },
        { authorization: `Bearer ${TOKENS.admin}x` },
        { authorization: `Basic ${Buffer.from(`admin:${TOKENS.admin}`).toString('base64')}` },
        { authorization: TOKENS.admin },
        { authorization: 'Bearer ' },
      ]) {
        const r = await call(ts.app, route.method, url, { headers, body, contentType });
        const error = expectError(r, 401, 'UNAUTHORIZED');
        expect(error.message).toBe('a valid bearer token is required (Authorization: Bearer <token>)');
      }
    }
  });

  it('checks the token before validating the request or looking anything up', async () => {
    const ts = await startTestService({ auth: true });
    expectError(await get(ts.app, '/v1/alerts?status=closed'), 401, 'UNAUTHORIZED');
    expectError(await get(ts.app, '/v1/alerts/al_unknown'), 401, 'UNAUTHORIZED');
    expectError(await get(ts.app, '/v1/kpis/unknown'), 401, 'UNAUTHORIZED');
    expectError(await call(ts.app, 'POST', '/v1/events', { body: 'x', contentType: 'text/plain' }), 401, 'UNAUTHORIZED');
    // With a token, the same requests get their own answers.
    expectError(await get(ts.app, '/v1/alerts?status=closed', { token: TOKENS.viewer }), 400, 'VALIDATION_FAILED');
    expectError(await get(ts.app, '/v1/alerts/al_unknown', { token: TOKENS.viewer }), 404, 'ALERT_NOT_FOUND');
    expectError(await get(ts.app, '/v1/kpis/unknown', { token: TOKENS.viewer }), 404, 'KPI_NOT_FOUND');
  });

  it('accepts the scheme name in any case', async () => {
    const ts = await startTestService({ auth: true });
    const r = await get(ts.app, '/v1/kpis', { headers: { authorization: `bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
  });
});

describe('open routes', () => {
  it('keeps /healthz, /readyz, /metrics and /docs open with tokens configured', async () => {
    const ts = await startTestService({ auth: true });
    for (const url of ['/healthz', '/readyz', '/metrics', '/docs', '/docs/json']) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-123' }] as Array<Record<string, string>>) {
        const r = await call(ts.app, 'GET', url, { headers });
        expect([url, r.status]).toEqual([url, 200]);
      }
    }
  });

  it('needs no token at all when none is configured', async () => {
    const ts = await startTestService();
    expect((await postEvents(ts.app, [waterlogging('o1', 0, 'P1', 30, HLG)])).status).toBe(202);
    const alerts = await get(ts.app, '/v1/alerts');
    expect(alerts.status).toBe(200);
    const ack = await call(ts.app, 'POST', `/v1/alerts/${alerts.json.items[0].id}/ack`, { body: { by: '张伟' } });
    expect(ack.status).toBe(200);
    // A token sent anyway is ignored.
    expect((await get(ts.app, '/v1/kpis', { token: 'anything-at-all' })).status).toBe(200);
  });
});

describe('named tokens: who acknowledged or resolved, and when', () => {
  const NAMED = {
    zhang: 'operator-zhang-0001',
    li: 'operator-li-000001',
    plain: 'operator-plain-001',
    viewer: 'viewer-wang-00001',
    admin: 'admin-token-00001',
  };
  const tokens = [
    `operator:值班员张伟:${NAMED.zhang}`,
    `operator:值班员李娜:${NAMED.li}`,
    `operator:${NAMED.plain}`,
    `viewer:王强:${NAMED.viewer}`,
    `admin:${NAMED.admin}`,
  ].join(',');

  async function alertOf(app: FastifyInstance, n: number): Promise<string> {
    expect((await postEvents(app, [waterlogging(`named-${n}`, n, `N${n}`, 30, HLG)], NAMED.admin)).status).toBe(202);
    return (await get(app, `/v1/alerts?entityId=N${n}`, { token: NAMED.admin })).json.items[0].id as string;
  }

  it('records the token’s name as `by`, and the wall-clock time beside the event-time clock', async () => {
    const ts = await startTestService({ env: { HUITIAN_TOKENS: tokens } });
    const id = await alertOf(ts.app, 1);
    ts.clock.advance(90_000);
    const ack = await call(ts.app, 'POST', `/v1/alerts/${id}/ack`, { token: NAMED.zhang, body: { note: '已派排水车' } });
    expect(ack.status, ack.body).toBe(200);
    expect(ack.json.history.at(-1)).toEqual({
      at: '2026-07-21T08:00:01+08:00',
      wallClockAt: '2026-07-21T09:01:30+08:00',
      action: 'acknowledged',
      severity: 'orange',
      by: '值班员张伟',
      note: '已派排水车',
    });
    const resolved = await call(ts.app, 'POST', `/v1/alerts/${id}/resolve`, { token: NAMED.li, body: {} });
    expect(resolved.json.history.at(-1)).toMatchObject({ action: 'resolved', by: '值班员李娜', wallClockAt: '2026-07-21T09:01:30+08:00' });
    expect(resolved.json.history.at(-1)).not.toHaveProperty('note');
    // The stored alert says the same after the fact.
    expect((await get(ts.app, `/v1/alerts/${id}`, { token: NAMED.viewer })).json.history.map((h: { by: string }) => h.by)).toEqual([
      'event:named-1',
      '值班员张伟',
      '值班员李娜',
    ]);
  });

  it('keeps a body `by` naming someone else in the note, never as `by`', async () => {
    const ts = await startTestService({ env: { HUITIAN_TOKENS: tokens } });
    let id = await alertOf(ts.app, 1);
    let r = await call(ts.app, 'POST', `/v1/alerts/${id}/ack`, { token: NAMED.zhang, body: { by: '值班员李娜', note: '已派排水车' } });
    expect(r.json.history.at(-1)).toMatchObject({ by: '值班员张伟', note: '[by: 值班员李娜] 已派排水车' });
    r = await call(ts.app, 'POST', `/v1/alerts/${id}/resolve`, { token: NAMED.zhang, body: { by: '值班员李娜' } });
    expect(r.json.history.at(-1)).toMatchObject({ by: '值班员张伟', note: '[by: 值班员李娜]' });
    // Its own name is no claim: nothing is added.
    id = await alertOf(ts.app, 2);
    r = await call(ts.app, 'POST', `/v1/alerts/${id}/ack`, { token: NAMED.zhang, body: { by: '值班员张伟', note: '收到' } });
    expect(r.json.history.at(-1)).toMatchObject({ by: '值班员张伟', note: '收到' });
  });

  it('names an unnamed (role:token) token by its role', async () => {
    const ts = await startTestService({ env: { HUITIAN_TOKENS: tokens } });
    const id = await alertOf(ts.app, 1);
    const r = await call(ts.app, 'POST', `/v1/alerts/${id}/ack`, { token: NAMED.plain, body: {} });
    expect(r.json.history.at(-1)).toMatchObject({ by: 'operator' });
    expect((await call(ts.app, 'POST', `/v1/alerts/${id}/resolve`, { token: NAMED.admin })).json.history.at(-1)).toMatchObject({ by: 'admin' });
  });

  it('GET /v1/status tells the console who signed in', async () => {
    const ts = await startTestService({ env: { HUITIAN_TOKENS: tokens } });
    expect((await get(ts.app, '/v1/status', { token: NAMED.viewer })).json).toMatchObject({ auth: true, caller: { role: 'viewer', name: '王强' } });
    expect((await get(ts.app, '/v1/status', { token: NAMED.zhang })).json.caller).toEqual({ role: 'operator', name: '值班员张伟' });
    expect((await get(ts.app, '/v1/status', { token: NAMED.plain })).json.caller).toEqual({ role: 'operator', name: 'operator' });
  });
});

describe('no tokens: loopback only', () => {
  it('refuses a non-loopback host without tokens, naming HUITIAN_HOST', () => {
    for (const host of ['0.0.0.0', '192.168.1.20', '::', 'huitian.example']) {
      let caught: unknown;
      try {
        loadConfig({ HUITIAN_HOST: host });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(HuitianError);
      const e = caught as HuitianError;
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.details).toEqual([expect.stringMatching(new RegExp(`^HUITIAN_HOST: .*got ${host.replace('.', '\\.')}`))]);
    }
  });

  it('allows loopback without tokens and any host with tokens', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(loadConfig({ HUITIAN_HOST: host }).host).toBe(host);
    const config = loadConfig({ HUITIAN_HOST: '0.0.0.0', HUITIAN_TOKENS: `viewer:${TOKENS.viewer}` });
    expect(config.host).toBe('0.0.0.0');
    expect([...config.tokenRoles]).toEqual([[TOKENS.viewer, 'viewer']]);
  });
});

describe('ingest rate limit', () => {
  it('answers the 4th POST in a minute with 429 RATE_LIMITED and Retry-After, per client', async () => {
    const ts = await startTestService({ auth: true, overrides: { ingestRateLimit: 3 } });
    const send = (n: number, token: string) => postEvents(ts.app, [waterlogging(`rl-${n}`, n, 'P1', 1, HLG)], token);
    for (let n = 1; n <= 3; n++) expect((await send(n, TOKENS.ingest)).status).toBe(202);
    const r = await send(4, TOKENS.ingest);
    const error = expectError(r, 429, 'RATE_LIMITED');
    const retryAfter = Number(r.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(error.message).toBe(`too many requests; retry after ${retryAfter} seconds`);
    // The refused request was not applied.
    expect((await get(ts.app, '/v1/dead-letters', { token: TOKENS.viewer })).json.items).toEqual([]);
    expect(ts.service.pipeline.engine.stats().accepted).toBe(3);
    // Another client (token) has its own budget; reads are not limited.
    expect((await send(5, TOKENS.admin)).status).toBe(202);
    for (let i = 0; i < 5; i++) expect((await get(ts.app, '/v1/kpis', { token: TOKENS.viewer })).status).toBe(200);
  });

  it('limits by client address when no token is configured', async () => {
    const ts = await startTestService({ overrides: { ingestRateLimit: 2 } });
    const send = (n: number, remoteAddress: string) =>
      ts.app.inject({
        method: 'POST',
        url: '/v1/events',
        remoteAddress,
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify(waterlogging(`ip-${n}`, n, 'P1', 1, HLG)),
      });
    expect((await send(1, '10.0.0.1')).statusCode).toBe(202);
    expect((await send(2, '10.0.0.1')).statusCode).toBe(202);
    const limited = await send(3, '10.0.0.1');
    expect([limited.statusCode, limited.json().error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await send(4, '10.0.0.2')).statusCode).toBe(202);
  });

  it('cannot be dodged by sending made-up bearer tokens when auth is off', async () => {
    const ts = await startTestService({ overrides: { ingestRateLimit: 2 } });
    const statuses: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const r = await postEvents(ts.app, [waterlogging(`dodge-${n}`, n, 'P1', 1, HLG)], `made-up-token-${n}`);
      statuses.push(r.status);
    }
    expect(statuses).toEqual([202, 202, 429, 429]);
  });

  it('does not limit when configured with 0', async () => {
    const ts = await startTestService({ overrides: { ingestRateLimit: 0 } });
    for (let n = 1; n <= 30; n++) expect((await postEvents(ts.app, [waterlogging(`nl-${n}`, n, 'P1', 1, HLG)])).status).toBe(202);
  });
});
