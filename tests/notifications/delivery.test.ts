/**
 * Alert delivery end to end (issue 12), through the real service and a real HTTP receiver
 * on 127.0.0.1: a storm grouped into one notification, delivered at least once across a
 * receiver that fails and goes down and a service restart, signed; escalation and
 * reminders at their event times; an `until` acknowledgement that lapses; silences; and
 * the same deliveries from a replay of the same stream, however it is batched.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { at, cloudEvent, HLG, TTYN, waterlogging, type CloudEvent } from '../helpers/events.js';
import { TestReceiver, type ReceivedCall } from '../helpers/receiver.js';
import { get, ManualClock, post, postEvents, startTestService, tempDir, useServiceCleanup, type TestService } from '../helpers/service.js';

useServiceCleanup();

const SECRET = 'a-webhook-secret-of-32-characters';
const { verifyHuitianSignature } = (await import(pathToFileURL(resolve('docs/examples/verify-signature.mjs')).href)) as {
  verifyHuitianSignature: (secret: string, headers: Record<string, unknown>, body: string, now?: number) => boolean;
};

const receivers: TestReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiver(): Promise<TestReceiver> {
  const r = new TestReceiver();
  await r.start();
  receivers.push(r);
  return r;
}

function configFile(notifications: unknown): string {
  const file = join(tempDir('huitian-config-'), 'config.json');
  writeFileSync(file, JSON.stringify({ notifications }));
  return file;
}

/** An event that touches no rule: moves event time (the watermark trails it by 60 s). */
let clockN = 0;
const tick = (seconds: number): CloudEvent =>
  cloudEvent('huitian.utility.reading', `clock-${clockN++}`, seconds, { lineId: 'CLOCK', network: 'water', metric: 'pressure_mpa', value: 0.3 }, '/clock');

/** Clock events every minute from `from` to `to` seconds. */
function ticks(from: number, to: number): CloudEvent[] {
  const out: CloudEvent[] = [];
  for (let s = from; s <= to; s += 60) out.push(tick(s));
  return out;
}

async function start(configPath: string, dataDir = tempDir(), clock = new ManualClock()): Promise<TestService> {
  const ts = await startTestService({ dataDir, clock, env: { HUITIAN_CONFIG: configPath } });
  ts.service.outbox.start();
  return ts;
}

/** Lets the outbox work: each round moves the wall clock past any backoff, then waits until nothing is due. */
async function drain(ts: TestService, rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    ts.clock.advance(20 * 60_000);
    ts.service.outbox.wake();
    await ts.service.outbox.idle();
  }
}

async function deliveries(ts: TestService, query = ''): Promise<any[]> {
  return (await get(ts.app, `/v1/notifications?limit=500${query}`)).json.items;
}

function bodyOf(call: ReceivedCall): any {
  return JSON.parse(call.body);
}

function expectSigned(call: ReceivedCall): void {
  const ts = Number(call.headers['x-huitian-timestamp']);
  expect(verifyHuitianSignature(SECRET, call.headers, call.body, ts)).toBe(true);
  // The snippet refuses a replay of the same call ten minutes later, and a changed body.
  expect(verifyHuitianSignature(SECRET, call.headers, call.body, ts + 600)).toBe(false);
  expect(verifyHuitianSignature(SECRET, call.headers, call.body.replace('"', "'"), ts)).toBe(false);
  expect(call.headers['idempotency-key']).toBe(bodyOf(call).idempotencyKey);
}

describe('webhook delivery: grouping and at-least-once across failures and a restart', () => {
  it('sends a 40-alert storm as one notification, and every delivery arrives, signed, exactly the expected set', async () => {
    const r = await receiver();
    const cfg = configFile({
      receivers: { duty: { type: 'webhook', url: r.url('/duty'), secret: SECRET, headers: { 'X-Org': 'huitian' } } },
      routes: [{ name: 'flood-duty', match: { category: 'flood' }, receivers: ['duty'] }],
      retry: { initialSeconds: 1, maxSeconds: 60 },
    });
    const dataDir = tempDir();
    const clock = new ManualClock();
    let ts = await start(cfg, dataDir, clock);
    // The receiver fails its first two calls (503, the first with Retry-After: 2).
    r.script.push({ status: 503, retryAfter: '2' }, { status: 503 });

    const storm = Array.from({ length: 40 }, (_, i) => waterlogging(`s-${i}`, i * 0.5, `UP-${String(i).padStart(2, '0')}`, 20 + i, HLG));
    expect((await postEvents(ts.app, storm)).json.accepted).toBe(40);
    // Nothing before the watermark passes the group window (first opening + 30 s).
    await ts.service.outbox.idle();
    expect(await deliveries(ts)).toEqual([]);
    await postEvents(ts.app, [tick(91)]);
    await ts.service.outbox.idle();
    let rows = await deliveries(ts);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ receiver: 'duty', route: 'flood-duty', reason: 'transitions', state: 'pending', attempts: 1, lastStatus: 503, at: at(30) });
    expect(rows[0].alertIds).toHaveLength(40);
    expect(r.calls).toHaveLength(1);

    // Retry-After: 2 is honoured: not before 2 s of wall time.
    clock.advance(1500);
    ts.service.outbox.wake();
    await ts.service.outbox.idle();
    expect(r.calls).toHaveLength(1);
    clock.advance(600);
    ts.service.outbox.wake();
    await ts.service.outbox.idle();
    expect(r.calls).toHaveLength(2);

    // The receiver goes down; the alerts resolve meanwhile and ingest does not wait for it.
    await r.stop();
    await drain(ts);
    const clears = storm.map((_, i) => waterlogging(`c-${i}`, 200 + i * 0.5, `UP-${String(i).padStart(2, '0')}`, 2, HLG));
    expect((await postEvents(ts.app, [...clears, tick(300)])).status).toBe(202);
    await drain(ts);
    rows = await deliveries(ts, '&state=pending');
    // Each receiver's deliveries go in order: the second waits behind the first.
    expect(rows.map((d) => [d.alertIds.length, d.attempts > 0, d.lastError !== null])).toEqual([
      [40, false, false],
      [40, true, true],
    ]);

    // The service restarts on the same data directory; the receiver comes back.
    await ts.stop();
    ts = await start(cfg, dataDir, clock);
    await r.start(r.port);
    await drain(ts, 2);

    rows = await deliveries(ts);
    expect(rows.map((d) => d.state)).toEqual(['delivered', 'delivered']);
    const accepted = r.accepted();
    for (const call of r.calls) expectSigned(call);
    expect(accepted.every((c) => c.headers['x-org'] === 'huitian' && c.path === '/duty')).toBe(true);
    // At least once: repeats carry the same idempotency key; the set is exactly the outbox's.
    const keys = [...new Set(accepted.map((c) => c.headers['idempotency-key']))].sort();
    expect(keys).toEqual(rows.map((d) => d.idempotencyKey).sort());
    const [opened, resolved] = [...new Map(accepted.map((c) => [c.headers['idempotency-key'], bodyOf(c)])).values()].sort((a, b) => a.at.localeCompare(b.at));
    expect(opened).toMatchObject({ reason: 'transitions', route: 'flood-duty', receiver: 'duty', groupKey: { category: 'flood', district: HLG }, count: 40, at: at(30) });
    expect(opened.alerts.map((a: any) => [a.action, a.alert.status, a.version])).toEqual(Array.from({ length: 40 }, () => ['opened', 'open', 1]));
    expect(opened.alerts.map((a: any) => a.alert.entityId)).toEqual(storm.map((e) => e.data.pointId));
    expect(resolved.alerts.map((a: any) => a.action)).toEqual(Array.from({ length: 40 }, () => 'resolved'));
    expect(resolved.alerts[39].alert).toMatchObject({ value: 2, peakValue: 59, status: 'resolved' });

    const metrics = (await get(ts.app, '/metrics')).body;
    expect(metrics).toMatch(/huitian_notification_outbox_deliveries\{receiver="duty",state="delivered"\} 2/);
    expect(metrics).toMatch(/huitian_notification_delivery_attempts_total\{receiver="duty",outcome="delivered"\} [12]/);
  });

  it('marks a delivery refused with a 4xx as failed, without retrying it, and goes on with the next', async () => {
    const r = await receiver();
    const cfg = configFile({
      receivers: { duty: { type: 'webhook', url: r.url() } },
      routes: [{ name: 'all', receivers: ['duty'], groupWaitSeconds: 0 }],
    });
    const ts = await start(cfg);
    r.script.push({ status: 400 });
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 30, HLG), waterlogging('b', 1, 'P2', 30, HLG), tick(120)]);
    await drain(ts, 2);
    const rows = await deliveries(ts);
    expect(rows.map((d) => [d.state, d.attempts, d.lastStatus])).toEqual([
      ['delivered', 1, 200],
      ['failed', 1, 400],
    ]);
    expect(r.calls).toHaveLength(2);
    // Unsigned without a secret.
    expect(r.calls[0]!.headers['x-huitian-signature']).toBeUndefined();
  });
});

describe('the outbox worker while a receiver is down', () => {
  it('waits for the backoff of the receiver’s oldest delivery instead of polling for the ones queued behind it', async () => {
    const r = await receiver();
    const cfg = configFile({ receivers: { duty: { type: 'webhook', url: r.url() } }, routes: [{ name: 'all', receivers: ['duty'], groupWaitSeconds: 0 }], retry: { initialSeconds: 60, maxSeconds: 600 } });
    const ts = await start(cfg);
    await r.stop();
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 30, HLG), waterlogging('b', 1, 'P2', 30, HLG), waterlogging('c', 2, 'P3', 30, HLG), tick(120)]);
    await ts.service.outbox.idle();
    const rows = ts.service.store.listDeliveries({ limit: 10 }).items;
    const head = rows.find((d) => d.attempts === 1)!;
    expect(rows.filter((d) => d.attempts === 0)).toHaveLength(2);
    // The next look is the head's retry (≥ 30 s away with jitter), not "now" for the two behind it.
    expect(ts.service.store.nextDeliveryAt()).toBe(head.nextAttemptAt);
    expect(head.nextAttemptAt - ts.clock.ms).toBeGreaterThanOrEqual(30_000);
    const spy = ts.service.store.dueDeliveries.bind(ts.service.store);
    let polls = 0;
    ts.service.store.dueDeliveries = (now, limit) => {
      polls++;
      return spy(now, limit);
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(polls).toBe(0);
  });
});

describe('receivers go at their own pace', () => {
  it('a receiver that hangs until its timeout holds back only its own queue', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.hang = true;
    const cfg = configFile({
      receivers: { slow: { type: 'webhook', url: slow.url(), timeoutSeconds: 5 }, fast: { type: 'webhook', url: fast.url() } },
      routes: [{ name: 'all', receivers: ['slow', 'fast'], groupWaitSeconds: 0 }],
    });
    const ts = await start(cfg);
    await postEvents(ts.app, [...Array.from({ length: 6 }, (_, i) => waterlogging(`h${i}`, i, `P${i}`, 30, HLG)), tick(120)]);
    const started = Date.now();
    for (;;) {
      if (fast.accepted().length === 6) break;
      expect(Date.now() - started, 'the fast receiver waited for the slow one').toBeLessThan(4000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(slow.calls).toHaveLength(0); // still waiting for its first answer
    slow.hang = false;
    await ts.service.outbox.idle();
  });
});

const ESCALATING = (r: TestReceiver) =>
  configFile({
    receivers: { duty: { type: 'webhook', url: r.url('/duty'), secret: SECRET }, chief: { type: 'webhook', url: r.url('/chief'), secret: SECRET } },
    routes: [
      { name: 'duty', receivers: ['duty'], groupWaitSeconds: 0 },
      { name: '值班长', receivers: ['chief'], escalationOnly: true },
    ],
    escalation: { red: { afterMinutes: 5, route: '值班长', repeatMinutes: 10 }, orange: { afterMinutes: 10, route: '值班长' } },
  });

async function historyOf(ts: TestService, entityId: string): Promise<Array<[string, string]>> {
  const a = (await get(ts.app, `/v1/alerts?entityId=${entityId}`)).json.items[0];
  const full = (await get(ts.app, `/v1/alerts/${a.id}`)).json;
  return full.history.map((h: { action: string; at: string }) => [h.action, h.at]);
}

describe('escalation of unacknowledged alerts', () => {
  it('escalates a red alert after 5 minutes and reminds every 10, at those event times, until it is acknowledged', async () => {
    const r = await receiver();
    const ts = await start(ESCALATING(r));
    await postEvents(ts.app, [waterlogging('red', 0, 'P1', 45, HLG), ...ticks(60, 1620)]);
    const id = (await get(ts.app, '/v1/alerts?entityId=P1')).json.items[0].id;
    // Acknowledged at 27:00 (the stream clock): the reminder due at 35:00 is not sent.
    expect((await post(ts.app, `/v1/alerts/${id}/ack`, { body: { by: '张伟' } })).status).toBe(200);
    await postEvents(ts.app, ticks(1680, 3000));
    await drain(ts);
    expect(await historyOf(ts, 'P1')).toEqual([
      ['opened', at(0)],
      ['escalated_to', at(300)],
      ['reminded', at(900)],
      ['reminded', at(1500)],
      ['acknowledged', at(1620)],
    ]);
    const chief = r.accepted().filter((c) => c.path === '/chief').map(bodyOf);
    expect(chief.map((b) => [b.reason, b.at, b.route, b.alerts[0].action, b.alerts[0].version])).toEqual([
      ['escalation', at(300), '值班长', 'escalated_to', 2],
      ['reminder', at(900), '值班长', 'reminded', 3],
      ['reminder', at(1500), '值班长', 'reminded', 4],
    ]);
    expect(chief[0].alerts[0].alert.history.at(-1)).toMatchObject({ action: 'escalated_to', route: '值班长', at: at(300) });
    const duty = r.accepted().filter((c) => c.path === '/duty').map(bodyOf);
    expect(duty.map((b) => b.alerts[0].action)).toEqual(['opened', 'acknowledged']);
  });

  it('an alert resolved with nobody acknowledging it is marked unacknowledged and counted', async () => {
    const r = await receiver();
    const ts = await start(ESCALATING(r));
    await postEvents(ts.app, [waterlogging('o', 0, 'P3', 30, TTYN), waterlogging('c', 120, 'P3', 1, TTYN), tick(400)]);
    expect((await historyOf(ts, 'P3')).map(([a]) => a)).toEqual(['opened', 'unacknowledged', 'resolved']);
    expect((await get(ts.app, '/metrics')).body).toMatch(/huitian_alerts_resolved_unacknowledged_total\{category="flood",severity="orange"\} 1/);
  });

  it('an acknowledgement with `until` lapses on time: the alert is open again, notified, and escalated', async () => {
    const r = await receiver();
    const ts = await start(ESCALATING(r));
    await postEvents(ts.app, [waterlogging('red2', 0, 'P2', 50, HLG), tick(60)]);
    const id = (await get(ts.app, '/v1/alerts?entityId=P2')).json.items[0].id;
    const ack = await post(ts.app, `/v1/alerts/${id}/ack`, { body: { by: '李娜', until: at(600) } });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ status: 'acknowledged', acknowledgedUntil: at(600) });
    await postEvents(ts.app, ticks(120, 600));
    expect((await get(ts.app, `/v1/alerts/${id}`)).json.status).toBe('acknowledged');
    await postEvents(ts.app, ticks(660, 1080));
    await drain(ts);
    const alert = (await get(ts.app, `/v1/alerts/${id}`)).json;
    expect(alert).toMatchObject({ status: 'open', acknowledgedUntil: null, acknowledgedAt: at(60) });
    expect(alert.history.map((h: any) => [h.action, h.at])).toEqual([
      ['opened', at(0)],
      ['acknowledged', at(60)],
      ['reopened', at(600)],
      ['escalated_to', at(900)],
    ]);
    expect(alert.history[1].until).toBe(at(600));
    const duty = r.accepted().filter((c) => c.path === '/duty').map((c) => [bodyOf(c).alerts[0].action, bodyOf(c).at]);
    expect(duty).toEqual([
      ['opened', at(0)],
      ['acknowledged', at(60)],
      ['reopened', at(600)],
    ]);
    // `until` must lie ahead of the stream clock.
    expect((await post(ts.app, `/v1/alerts/${id}/ack`, { body: { by: '李娜', until: at(10) } })).json.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('silences', () => {
  it('stores a silenced entity’s alerts with silencedBy, delivers nothing for them, and delivers when the silence ends — across a restart', async () => {
    const r = await receiver();
    const cfg = ESCALATING(r);
    const dataDir = tempDir();
    const clock = new ManualClock();
    let ts = await start(cfg, dataDir, clock);
    await postEvents(ts.app, [tick(0)]);
    const created = await post(ts.app, '/v1/silences', { body: { matchers: { entityId: 'P5' }, startsAt: at(0), endsAt: at(1200), comment: '设备检修' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ matchers: { entityId: 'P5' }, startsAt: at(0), endsAt: at(1200), comment: '设备检修', createdBy: 'local' });
    const sid = created.json.id;
    await postEvents(ts.app, [waterlogging('p5', 60, 'P5', 48, HLG), waterlogging('p6', 60, 'P6', 48, HLG), ...ticks(120, 600)]);
    await drain(ts);
    const p5 = (await get(ts.app, '/v1/alerts?entityId=P5')).json.items[0];
    expect(p5).toMatchObject({ status: 'open', severity: 'red', silencedBy: sid });
    expect((await historyOf(ts, 'P5')).map(([a]) => a)).toEqual(['opened', 'silenced']);
    const delivered = () => r.accepted().map((c) => bodyOf(c)).map((b) => [b.route, b.alerts[0].alert.entityId, b.alerts[0].action, b.at]);
    // P6 is notified and escalated at 6:00; P5 neither.
    expect(delivered()).toEqual([
      ['duty', 'P6', 'opened', at(60)],
      ['值班长', 'P6', 'escalated_to', at(360)],
    ]);
    expect((await get(ts.app, '/v1/silences')).json.items).toMatchObject([{ id: sid, state: 'active' }]);

    // A restart does not forget the silence.
    await ts.stop();
    ts = await start(cfg, dataDir, clock);
    await postEvents(ts.app, ticks(660, 1680));
    await drain(ts);
    expect(delivered().filter((d) => d[1] === 'P5')).toEqual([
      ['duty', 'P5', 'unsilenced', at(1200)],
      ['值班长', 'P5', 'escalated_to', at(1500)],
    ]);
    expect((await get(ts.app, `/v1/alerts/${p5.id}`)).json.silencedBy).toBeNull();
    expect((await get(ts.app, `/v1/silences/${sid}`)).json.state).toBe('expired');
  });

  it('DELETE expires a silence now; it needs the operator role; a silence needs a matcher', async () => {
    const ts = await startTestService({ auth: true });
    const { TOKENS } = await import('../helpers/service.js');
    await postEvents(ts.app, [tick(0)], TOKENS.ingest);
    const body = { matchers: { district: HLG }, endsAt: at(3600) };
    expect((await post(ts.app, '/v1/silences', { body, token: TOKENS.viewer })).status).toBe(403);
    const bad = await post(ts.app, '/v1/silences', { body: { matchers: {}, endsAt: at(3600) }, token: TOKENS.operator });
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    const s = (await post(ts.app, '/v1/silences', { body, token: TOKENS.operator })).json;
    expect(s.createdBy).toMatch(/^operator#[0-9a-f]{8}$/);
    expect(s.startsAt).toBe(at(0));
    const del = await ts.app.inject({ method: 'DELETE', url: `/v1/silences/${s.id}`, headers: { authorization: `Bearer ${TOKENS.operator}` } });
    expect(del.statusCode).toBe(200);
    expect(JSON.parse(del.body)).toMatchObject({ id: s.id, state: 'expired', endsAt: at(0) });
    const missing = await ts.app.inject({ method: 'DELETE', url: '/v1/silences/sil_nope', headers: { authorization: `Bearer ${TOKENS.operator}` } });
    expect(JSON.parse(missing.body).error.code).toBe('SILENCE_NOT_FOUND');
  });
});

describe('replay', () => {
  /** A stream with a storm, escalations, reminders, resolutions in two districts. */
  function stream(): CloudEvent[] {
    const events: CloudEvent[] = [];
    for (let i = 0; i < 12; i++) events.push(waterlogging(`r-${i}`, i * 2, `R-${i}`, 16 + 3 * i, i % 2 === 0 ? HLG : TTYN));
    for (let i = 0; i < 12; i += 3) events.push(waterlogging(`x-${i}`, 400 + i, `R-${i}`, 3, i % 2 === 0 ? HLG : TTYN));
    events.push(waterlogging('up', 500, 'R-1', 44, TTYN));
    events.push(...ticks(30, 2400));
    return events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  }

  async function outboxAfter(post: (ts: TestService, events: CloudEvent[]) => Promise<void>): Promise<Array<[string, string]>> {
    const r = new TestReceiver(); // never started: everything stays in the outbox
    const ts = await startTestService({ env: { HUITIAN_CONFIG: ESCALATING(r) } });
    await post(ts, stream());
    return ts.service.store
      .listDeliveries({ limit: 10_000 })
      .items.map((d) => [d.deliveryId, d.body] as [string, string])
      .sort((a, b) => a[0].localeCompare(b[0]));
  }

  it('gives the same deliveries (ids and bodies) whether the stream comes in one request or one event per request', async () => {
    const oneBatch = await outboxAfter(async (ts, events) => {
      await postEvents(ts.app, events);
    });
    const perEvent = await outboxAfter(async (ts, events) => {
      for (const e of events) await postEvents(ts.app, [e]);
    });
    const again = await outboxAfter(async (ts, events) => {
      for (let i = 0; i < events.length; i += 7) await postEvents(ts.app, events.slice(i, i + 7));
    });
    expect(oneBatch.length).toBeGreaterThan(10);
    const reasons = oneBatch.map(([, body]) => JSON.parse(body).reason);
    expect(new Set(reasons)).toEqual(new Set(['transitions', 'escalation', 'reminder']));
    expect(perEvent).toEqual(oneBatch);
    expect(again).toEqual(oneBatch);
  });
});
