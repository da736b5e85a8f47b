/**
 * GET /v1/alerts (every filter, cursor pages), GET /v1/alerts/:id, and the operators'
 * POST /v1/alerts/:id/ack and /resolve with their 400, 404 and 409 answers.
 */
import type { FastifyInstance } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { at, gasReading, HLG, HY, TTYN, TTYS, utilityAlarm, waterlogging } from '../helpers/events.js';
import { expectError, get, post, postEvents, q, startTestService, useServiceCleanup, type TestService } from '../helpers/service.js';

useServiceCleanup();

interface PublicAlert {
  id: string;
  entityId: string;
  status: string;
  severity: string;
  category: string;
  district: string;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  history: Array<{ at: string; action: string; severity: string; by: string; note?: string; value?: number }>;
  [k: string]: unknown;
}

/**
 * Five alerts, newest first: L1/E01 (utility, blue, open, 霍营), G1 (utility, orange, open,
 * 天通苑南), P3 (flood, orange, resolved, 回龙观), P2 (flood, red, open, 天通苑北),
 * P1 (flood, yellow, acknowledged, 回龙观).
 */
const SCENARIO = [
  waterlogging('w1', 0, 'P1', 20, HLG),
  waterlogging('w2', 60, 'P2', 45, TTYN),
  waterlogging('w3', 120, 'P3', 30, HLG),
  waterlogging('w4', 180, 'P3', 5, HLG),
  gasReading('g1', 240, 'G1', 25, TTYS),
  utilityAlarm('u1', 300, 'L1', 'E01', 'raised', 'blue', HY),
];

let ts: TestService;
let app: FastifyInstance;
let ids: Record<string, string>;

async function list(query: string): Promise<string[]> {
  const r = await get(app, `/v1/alerts${query === '' ? '' : `?${query}`}`);
  expect(r.status).toBe(200);
  return (r.json.items as PublicAlert[]).map((a) => a.entityId);
}

async function alert(id: string): Promise<PublicAlert> {
  const r = await get(app, `/v1/alerts/${id}`);
  expect(r.status).toBe(200);
  return r.json;
}

beforeEach(async () => {
  ts = await startTestService();
  app = ts.app;
  expect((await postEvents(app, SCENARIO)).json).toMatchObject({ accepted: 6, rejected: 0 });
  const all = await get(app, '/v1/alerts?limit=500');
  ids = Object.fromEntries((all.json.items as PublicAlert[]).map((a) => [a.entityId, a.id]));
  const ack = await post(app, `/v1/alerts/${ids.P1}/ack`, { body: { by: '张伟' } });
  expect(ack.status).toBe(200);
});

describe('GET /v1/alerts', () => {
  it('lists every alert newest first, each with its public fields', async () => {
    const r = await get(app, '/v1/alerts');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['items', 'nextCursor']);
    expect(r.json.nextCursor).toBeNull();
    const items = r.json.items as PublicAlert[];
    expect(items.map((a) => [a.entityId, a.category, a.severity, a.status, a.district, a.openedAt])).toEqual([
      ['L1/E01', 'utility', 'blue', 'open', HY, at(300)],
      ['G1', 'utility', 'orange', 'open', TTYS, at(240)],
      ['P3', 'flood', 'orange', 'resolved', HLG, at(120)],
      ['P2', 'flood', 'red', 'open', TTYN, at(60)],
      ['P1', 'flood', 'yellow', 'acknowledged', HLG, at(0)],
    ]);
    expect(items[3]).toMatchObject({ capSeverity: 'Extreme', level: 'I', rule: 'waterlogging_depth', value: 45, threshold: 40 });
    expect(items[3]!.title).toBe('积水红色预警：P2 积水 45 厘米');
    expect(items[3]!.titleEn).toBe('Waterlogging red warning: P2 at 45 cm');
  });

  it('filters by status, with active = open + acknowledged', async () => {
    expect(await list('status=open')).toEqual(['L1/E01', 'G1', 'P2']);
    expect(await list('status=acknowledged')).toEqual(['P1']);
    expect(await list('status=resolved')).toEqual(['P3']);
    expect(await list('status=active')).toEqual(['L1/E01', 'G1', 'P2', 'P1']);
  });

  it('filters by severity, category, district and entityId, and combines filters', async () => {
    expect(await list('severity=orange')).toEqual(['G1', 'P3']);
    expect(await list('severity=red')).toEqual(['P2']);
    expect(await list('severity=yellow')).toEqual(['P1']);
    expect(await list('severity=blue')).toEqual(['L1/E01']);
    expect(await list('category=flood')).toEqual(['P3', 'P2', 'P1']);
    expect(await list('category=utility')).toEqual(['L1/E01', 'G1']);
    expect(await list('category=parking')).toEqual([]);
    expect(await list(`district=${q(HLG)}`)).toEqual(['P3', 'P1']);
    expect(await list(`district=${q('东小口镇')}`)).toEqual([]);
    expect(await list(`entityId=${q('L1/E01')}`)).toEqual(['L1/E01']);
    expect(await list('category=flood&status=active')).toEqual(['P2', 'P1']);
    expect(await list(`category=flood&district=${q(HLG)}&severity=orange&status=resolved`)).toEqual(['P3']);
  });

  it('pages with limit and cursor: pages do not overlap and cover everything, in order', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const r = await get(app, `/v1/alerts?limit=2${cursor === null ? '' : `&cursor=${q(cursor)}`}`);
      expect(r.status).toBe(200);
      pages.push((r.json.items as PublicAlert[]).map((a) => a.entityId));
      cursor = r.json.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual([['L1/E01', 'G1'], ['P3', 'P2'], ['P1']]);

    // The cursor keeps the filter's order too.
    const first = await get(app, '/v1/alerts?status=active&limit=3');
    expect((first.json.items as PublicAlert[]).map((a) => a.entityId)).toEqual(['L1/E01', 'G1', 'P2']);
    const second = await get(app, `/v1/alerts?status=active&limit=3&cursor=${q(first.json.nextCursor)}`);
    expect([(second.json.items as PublicAlert[]).map((a) => a.entityId), second.json.nextCursor]).toEqual([['P1'], null]);
  });

  it('pages alerts opened at the same instant without gaps or repeats', async () => {
    // Eight more alerts, opened two by two at the same event time.
    const more = Array.from({ length: 8 }, (_, i) => waterlogging(`t${i}`, 400 + Math.floor(i / 2) * 10, `T${i}`, 20 + i, HLG));
    expect((await postEvents(app, more)).json.accepted).toBe(8);
    const all = (await get(app, '/v1/alerts?limit=500')).json.items as PublicAlert[];
    expect(all).toHaveLength(13);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.openedAt > b.openedAt || (a.openedAt === b.openedAt && a.id > b.id)).toBe(true);
    }
    for (const limit of [1, 2, 3, 5]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await get(app, `/v1/alerts?limit=${limit}${cursor === null ? '' : `&cursor=${q(cursor)}`}`);
        expect(r.json.items.length).toBeLessThanOrEqual(limit);
        seen.push(...(r.json.items as PublicAlert[]).map((a) => a.id));
        cursor = r.json.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual(all.map((a) => a.id));
    }
  });

  it('refuses invalid filter values and cursors with 400 VALIDATION_FAILED', async () => {
    for (const [query, field] of [
      ['status=closed', 'querystring.status'],
      ['severity=purple', 'querystring.severity'],
      ['category=weather', 'querystring.category'],
      ['limit=0', 'querystring.limit'],
      ['limit=501', 'querystring.limit'],
      ['limit=ten', 'querystring.limit'],
      ['district=', 'querystring.district'],
      ['entityId=', 'querystring.entityId'],
    ] as const) {
      const error = expectError(await get(app, `/v1/alerts?${query}`), 400, 'VALIDATION_FAILED');
      expect(error.details, query).toEqual([expect.stringMatching(new RegExp(`^${field.replace('.', '\\.')}: `))]);
    }
    for (const cursor of ['garbage', Buffer.from('[1, 2]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      const error = expectError(await get(app, `/v1/alerts?cursor=${q(cursor)}`), 400, 'VALIDATION_FAILED');
      expect(error.message).toBe('the request is invalid: cursor is not one this server issued');
    }
  });
});

describe('GET /v1/alerts/:id', () => {
  it('answers an active or a resolved alert with its history', async () => {
    const p2 = await alert(ids.P2!);
    expect(p2).toMatchObject({ id: ids.P2, entityId: 'P2', status: 'open', severity: 'red', acknowledgedAt: null, resolvedAt: null });
    expect(p2.history).toEqual([{ at: at(60), action: 'opened', severity: 'red', by: 'event:w2', value: 45 }]);

    const p3 = await alert(ids.P3!);
    expect(p3).toMatchObject({ status: 'resolved', severity: 'orange', resolvedAt: at(180) });
    expect(p3.history).toEqual([
      { at: at(120), action: 'opened', severity: 'orange', by: 'event:w3', value: 30 },
      // Resolved with nobody having acknowledged it: marked for the shift report.
      { at: at(180), action: 'unacknowledged', severity: 'orange', by: 'engine' },
      { at: at(180), action: 'resolved', severity: 'orange', by: 'event:w4', value: 5 },
    ]);
  });

  it('answers 404 ALERT_NOT_FOUND for an unknown id', async () => {
    const error = expectError(await get(app, '/v1/alerts/al_00000000000000000000'), 404, 'ALERT_NOT_FOUND');
    expect(error.message).toBe('no alert with id al_00000000000000000000');
  });
});

describe('POST /v1/alerts/:id/ack and /resolve', () => {
  it('acknowledges with by and note, stamped with the stream clock, and returns the updated alert', async () => {
    const r = await post(app, `/v1/alerts/${ids.P2}/ack`, { body: { by: '李娜', note: '已派排水车' } });
    expect(r.status).toBe(200);
    // Replay mode: the stream's clock is the newest event time (300 s).
    expect(r.json).toMatchObject({ id: ids.P2, status: 'acknowledged', acknowledgedAt: at(300), resolvedAt: null, updatedAt: at(300) });
    // `at` is the stream's clock; `wallClockAt` when it was done (the test's wall clock, 09:00).
    expect(r.json.history.at(-1)).toEqual({ at: at(300), wallClockAt: '2026-07-21T09:00:00+08:00', action: 'acknowledged', severity: 'red', by: '李娜', note: '已派排水车' });
    expect(await alert(ids.P2!)).toEqual(r.json);
    expect(await list('status=acknowledged')).toEqual(['P2', 'P1']);
  });

  it('resolves an open or acknowledged alert', async () => {
    let r = await post(app, `/v1/alerts/${ids.P1}/resolve`, { body: { by: '张伟', note: '积水已排除' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'resolved', acknowledgedAt: at(300), resolvedAt: at(300) });
    expect(r.json.history.map((h: { action: string; by: string }) => [h.action, h.by])).toEqual([
      ['opened', 'event:w1'],
      ['acknowledged', '张伟'],
      ['resolved', '张伟'],
    ]);
    expect(r.json.history.at(-1).note).toBe('积水已排除');
    r = await post(app, `/v1/alerts/${ids.G1}/resolve`, { body: { by: '王强' } });
    expect(r.json).toMatchObject({ status: 'resolved', acknowledgedAt: null, resolvedAt: at(300) });
    expect(r.json.history.at(-1)).toEqual({ at: at(300), wallClockAt: '2026-07-21T09:00:00+08:00', action: 'resolved', severity: 'orange', by: '王强' });
    expect(await list('status=resolved')).toEqual(['G1', 'P3', 'P1']);
  });

  it('answers 409 ALERT_TRANSITION_NOT_ALLOWED for a second ack and for acting on a resolved alert', async () => {
    let error = expectError(await post(app, `/v1/alerts/${ids.P1}/ack`, { body: { by: '张伟' } }), 409, 'ALERT_TRANSITION_NOT_ALLOWED');
    expect(error.message).toBe(`alert ${ids.P1} is acknowledged; it cannot be acknowledged`);
    error = expectError(await post(app, `/v1/alerts/${ids.P3}/ack`, { body: { by: '张伟' } }), 409, 'ALERT_TRANSITION_NOT_ALLOWED');
    expect(error.message).toBe(`alert ${ids.P3} is resolved; it cannot be acknowledged`);
    error = expectError(await post(app, `/v1/alerts/${ids.P3}/resolve`, { body: { by: '张伟' } }), 409, 'ALERT_TRANSITION_NOT_ALLOWED');
    expect(error.message).toBe(`alert ${ids.P3} is resolved; it cannot be resolved`);
    // Refusals change nothing.
    expect((await alert(ids.P3!)).history).toHaveLength(3);
    expect((await alert(ids.P1!)).history).toHaveLength(2);
  });

  it('answers 404 ALERT_NOT_FOUND for an unknown alert', async () => {
    for (const op of ['ack', 'resolve']) {
      const error = expectError(await post(app, `/v1/alerts/al_nope/${op}`, { body: { by: '张伟' } }), 404, 'ALERT_NOT_FOUND');
      expect(error.message).toBe('no alert with id al_nope');
    }
  });

  it('with auth off records the body’s `by`, or `loopback` when it names nobody', async () => {
    let r = await post(app, `/v1/alerts/${ids.P2}/ack`, { body: { note: '已派排水车' } });
    expect(r.status).toBe(200);
    expect(r.json.history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'loopback', note: '已派排水车' });
    r = await post(app, `/v1/alerts/${ids.P2}/resolve`);
    expect(r.status).toBe(200);
    expect(r.json.history.at(-1)).toMatchObject({ action: 'resolved', by: 'loopback' });
    expect(r.json.history.at(-1)).not.toHaveProperty('note');
  });

  it('answers 400 with a blank `by`, a too long note or a body that is not JSON', async () => {
    for (const op of ['ack', 'resolve']) {
      const url = `/v1/alerts/${ids.P2}/${op}`;
      let error = expectError(await post(app, url, { body: { by: '   ' } }), 400, 'VALIDATION_FAILED');
      expect(error.details).toEqual([expect.stringMatching(/^body\.by: /)]);
      error = expectError(await post(app, url, { body: { by: '张伟', note: 'x'.repeat(2001) } }), 400, 'VALIDATION_FAILED');
      expect(error.details).toEqual([expect.stringMatching(/^body\.note: /)]);
      expectError(await post(app, url, { body: [] }), 400, 'VALIDATION_FAILED');
      expectError(await post(app, url, { body: '{"by": ', contentType: 'application/json' }), 400, 'BODY_INVALID');
      expectError(await post(app, url, { body: 'by=张伟', contentType: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await alert(ids.P2!)).status).toBe('open');
  });

  it('answers 400 for an ack `until` not after the stream clock, naming that clock in local time', async () => {
    const error = expectError(await post(app, `/v1/alerts/${ids.P2}/ack`, { body: { by: '张伟', until: at(0) } }), 400, 'VALIDATION_FAILED');
    expect(error.message).toMatch(/until must be after the stream's event-time clock \(2026-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00\)/);
    expect((await alert(ids.P2!)).status).toBe('open');
  });
});
