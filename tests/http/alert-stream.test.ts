/**
 * GET /v1/alerts/stream over a real listening server: one `alert` event per transition
 * with the feed sequence as its id, and a resume with Last-Event-ID that gets exactly the
 * transitions after it — including those committed while the client was away.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HLG, waterlogging } from '../helpers/events.js';
import { SseClient } from '../helpers/sse.js';
import { expectError, get, post, postEvents, startTestService, TOKENS, useServiceCleanup, type TestService } from '../helpers/service.js';

useServiceCleanup();

const clients: SseClient[] = [];
// Registered after the service cleanup, so it runs before it: open streams would keep
// the server from closing.
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function listening(options: Parameters<typeof startTestService>[0] = {}): Promise<{ ts: TestService; base: string }> {
  const ts = await startTestService(options);
  const base = await ts.app.listen({ port: 0, host: '127.0.0.1' });
  return { ts, base };
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const c = await SseClient.open(url, headers);
  clients.push(c);
  if (c.status === 200) await c.until(() => c.comments.some((m) => m.startsWith('connected')));
  return c;
}

interface AlertData {
  action: string;
  alert: { id: string; entityId: string; status: string; severity: string };
}

const parsed = (c: SseClient) => c.events.map((e) => ({ id: Number(e.id), event: e.event, ...(JSON.parse(e.data) as AlertData) }));
const summary = (c: SseClient) => parsed(c).map((e) => [e.id, e.event, e.action, e.alert.entityId, e.alert.status, e.alert.severity]);

/** Lets anything still in flight arrive, so a test can assert that nothing more came. */
const settle = () => new Promise((r) => setTimeout(r, 150));

describe('GET /v1/alerts/stream', () => {
  it('sends one `alert` event per transition, with the feed sequence as id, from the moment of connecting', async () => {
    const { ts, base } = await listening();
    await postEvents(ts.app, [waterlogging('p0', 0, 'P0', 45, HLG)]); // seq 1, before connecting

    const c = await connect(`${base}/v1/alerts/stream`);
    expect(c.status).toBe(200);
    expect(c.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(c.comments).toContain('connected, resuming after 1');

    await postEvents(ts.app, [waterlogging('p1a', 10, 'P1', 20, HLG)]);
    await postEvents(ts.app, [waterlogging('p1b', 20, 'P1', 30, HLG)]);
    await postEvents(ts.app, [waterlogging('p1c', 30, 'P1', 5, HLG)]);
    await c.untilEvents(3);
    await settle();
    expect(summary(c)).toEqual([
      [2, 'alert', 'opened', 'P1', 'open', 'yellow'],
      [3, 'alert', 'escalated', 'P1', 'open', 'orange'],
      [4, 'alert', 'resolved', 'P1', 'resolved', 'orange'],
    ]);
    const events = parsed(c);
    expect(new Set(events.map((e) => e.alert.id)).size).toBe(1);
    // Each event carries the public alert, as GET /v1/alerts/:id answers it after that transition.
    const stored = await get(ts.app, `/v1/alerts/${events[0]!.alert.id}`);
    expect(events[2]!.alert).toEqual(stored.json);
    expect(ts.service.store.alertEventsAfter(1, 10).map((e) => [e.seq, e.action])).toEqual([
      [2, 'opened'],
      [3, 'escalated'],
      [4, 'resolved'],
    ]);
  });

  it('resumes after Last-Event-ID with no gap and no repeat, including transitions committed while away', async () => {
    const { ts, base } = await listening();
    const first = await connect(`${base}/v1/alerts/stream`);
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 20, HLG), waterlogging('b', 5, 'P1', 45, HLG)]); // 1 opened, 2 escalated
    await postEvents(ts.app, [waterlogging('c', 10, 'P1', 1, HLG)]); // 3 resolved
    await first.untilEvents(3);
    expect(first.ids).toEqual([1, 2, 3]);
    first.close();

    // While disconnected: P2 opens (4) and an operator acknowledges it (5).
    await postEvents(ts.app, [waterlogging('d', 20, 'P2', 28, HLG)]);
    const p2 = (await get(ts.app, '/v1/alerts?entityId=P2')).json.items[0].id as string;
    expect((await post(ts.app, `/v1/alerts/${p2}/ack`, { body: { by: '张伟' } })).status).toBe(200);

    const resumed = await connect(`${base}/v1/alerts/stream`, { 'last-event-id': '3' });
    expect(resumed.comments).toContain('connected, resuming after 3');
    await resumed.untilEvents(2);
    // Then live: P2 resolves (6).
    await postEvents(ts.app, [waterlogging('e', 30, 'P2', 2, HLG)]);
    await resumed.untilEvents(3);
    await settle();
    expect(summary(resumed)).toEqual([
      [4, 'alert', 'opened', 'P2', 'open', 'orange'],
      [5, 'alert', 'acknowledged', 'P2', 'acknowledged', 'orange'],
      [6, 'alert', 'resolved', 'P2', 'resolved', 'orange'],
    ]);

    // ?lastEventId= does the same for clients that cannot set headers; 0 is the whole feed.
    const everything = await connect(`${base}/v1/alerts/stream?lastEventId=0`);
    await everything.untilEvents(6);
    await settle();
    expect(everything.ids).toEqual([1, 2, 3, 4, 5, 6]);
    // A resume point at the end gets only what comes next.
    const atEnd = await connect(`${base}/v1/alerts/stream`, { 'last-event-id': '6' });
    await postEvents(ts.app, [waterlogging('f', 40, 'P3', 16, HLG)]);
    await atEnd.untilEvents(1);
    await settle();
    expect(atEnd.ids).toEqual([7]);
  });

  it('resumes at the end of the feed for an id this feed never issued, or one that is not a number', async () => {
    const { ts, base } = await listening();
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 20, HLG)]); // 1
    const foreign = await connect(`${base}/v1/alerts/stream`, { 'last-event-id': '5000' });
    expect(foreign.comments).toContain('connected, resuming after 1');
    const garbage = await connect(`${base}/v1/alerts/stream`, { 'last-event-id': 'abc' });
    expect(garbage.comments).toContain('connected, resuming after 1');
    await postEvents(ts.app, [waterlogging('b', 10, 'P1', 45, HLG)]); // 2
    await foreign.untilEvents(1);
    await garbage.untilEvents(1);
    expect([foreign.ids, garbage.ids]).toEqual([[2], [2]]);
  });

  it('replays a backlog longer than one store page in order', async () => {
    const { ts, base } = await listening();
    const readings = Array.from({ length: 1200 }, (_, i) => waterlogging(`r${i}`, i, `P${i}`, 20, HLG));
    expect((await postEvents(ts.app, readings)).json.accepted).toBe(1200);
    const c = await connect(`${base}/v1/alerts/stream`, { 'last-event-id': '100' });
    await c.untilEvents(1100);
    await settle();
    expect(c.ids).toEqual(Array.from({ length: 1100 }, (_, i) => 101 + i));
  });

  it('needs a read role when tokens are configured, and takes it as ?access_token=', async () => {
    const { ts, base } = await listening({ auth: true });
    const refused = await SseClient.open(`${base}/v1/alerts/stream`);
    clients.push(refused);
    expect(refused.status).toBe(401);
    expect(JSON.parse(await refused.body()).error.code).toBe('UNAUTHORIZED');
    const forbidden = await SseClient.open(`${base}/v1/alerts/stream?access_token=${TOKENS.ingest}`);
    clients.push(forbidden);
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(await forbidden.body()).error.code).toBe('FORBIDDEN');
    expectError(await get(ts.app, '/v1/alerts/stream?access_token=not-a-token'), 401, 'UNAUTHORIZED');
    // ?access_token= is for the stream only.
    expectError(await get(ts.app, `/v1/alerts?access_token=${TOKENS.viewer}`), 401, 'UNAUTHORIZED');

    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const c = await connect(`${base}/v1/alerts/stream?access_token=${TOKENS[role]}&lastEventId=0`);
      expect([role, c.status]).toEqual([role, 200]);
    }
    const byHeader = await connect(`${base}/v1/alerts/stream`, { authorization: `Bearer ${TOKENS.viewer}` });
    expect(byHeader.status).toBe(200);
    await postEvents(ts.app, [waterlogging('s1', 0, 'P1', 20, HLG)], TOKENS.ingest);
    for (const c of clients.filter((x) => x.status === 200)) await c.untilEvents(1);
    expect(clients.filter((x) => x.status === 200).map((c) => c.ids)).toEqual([[1], [1], [1], [1]]);
  });

  it('ends open streams when the service stops, so shutdown does not wait for clients', async () => {
    const { ts, base } = await listening();
    const c = await connect(`${base}/v1/alerts/stream`);
    await postEvents(ts.app, [waterlogging('s1', 0, 'P1', 20, HLG)]);
    await c.untilEvents(1);
    const stopped = ts.stop().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3000).unref());
    expect(await Promise.race([stopped, timeout])).toBe('stopped');
    // The client sees the stream end (and would reconnect with Last-Event-ID: 1).
    await c.body();
    expect(c.ids).toEqual([1]);
  });
});
