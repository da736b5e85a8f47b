/**
 * Issue 12's additions to the alert views: the peak beside the latest value (titles no
 * longer frozen at the escalation reading), the summary for a wall display, and the SSE
 * stream taking the list's filters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { at, HLG, TTYN, waterlogging, gasReading } from '../helpers/events.js';
import { SseClient } from '../helpers/sse.js';
import { get, postEvents, startTestService, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();
const clients: SseClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('peakValue and peakAt', () => {
  it('an active alert follows the latest reading and keeps its peak; the title names the peak, in the list and in the detail', async () => {
    const { app } = await startTestService();
    await postEvents(app, [waterlogging('a', 0, 'P1', 41, HLG), waterlogging('b', 60, 'P1', 43.9, HLG), waterlogging('c', 120, 'P1', 51.8, HLG), waterlogging('d', 180, 'P1', 47.2, HLG)]);
    const listed = (await get(app, '/v1/alerts?entityId=P1')).json.items[0];
    const detail = (await get(app, `/v1/alerts/${listed.id}`)).json;
    for (const a of [listed, detail]) {
      expect(a).toMatchObject({ severity: 'red', value: 47.2, peakValue: 51.8, peakAt: at(120), version: 1 });
      expect(a.title).toBe('积水红色预警：P1 积水 51.8 厘米');
      expect(a.titleEn).toBe('Waterlogging red warning: P1 at 51.8 cm');
    }
    // Resolved: the resolving reading is the value, the peak stays.
    await postEvents(app, [waterlogging('e', 240, 'P1', 4, HLG)]);
    const resolved = (await get(app, `/v1/alerts/${listed.id}`)).json;
    expect(resolved).toMatchObject({ status: 'resolved', value: 4, peakValue: 51.8, peakAt: at(120) });
  });
});

describe('GET /v1/alerts/summary', () => {
  it('counts by severity × status × category × district, with totals', async () => {
    const { app } = await startTestService();
    await postEvents(app, [
      waterlogging('a', 0, 'P1', 45, HLG),
      waterlogging('b', 0, 'P2', 20, HLG),
      waterlogging('c', 0, 'P3', 20, TTYN),
      gasReading('g', 0, 'G1', 60, HLG),
      waterlogging('d', 30, 'P3', 2, TTYN),
    ]);
    const all = (await get(app, '/v1/alerts/summary')).json;
    expect(all.total).toBe(4);
    expect(all.bySeverity).toEqual({ blue: 0, yellow: 2, orange: 0, red: 2 });
    expect(all.byStatus).toEqual({ open: 3, acknowledged: 0, resolved: 1 });
    expect(all.groups).toEqual(
      expect.arrayContaining([
        { severity: 'red', status: 'open', category: 'flood', district: HLG, count: 1 },
        { severity: 'yellow', status: 'open', category: 'flood', district: HLG, count: 1 },
        { severity: 'yellow', status: 'resolved', category: 'flood', district: TTYN, count: 1 },
        { severity: 'red', status: 'open', category: 'utility', district: HLG, count: 1 },
      ]),
    );
    expect((await get(app, '/v1/alerts/summary?status=active')).json.total).toBe(3);
  });
});

describe('SSE filters', () => {
  it('the stream takes severity, category and district like the list', async () => {
    const ts = await startTestService();
    const base = await ts.app.listen({ port: 0, host: '127.0.0.1' });
    const c = await SseClient.open(`${base}/v1/alerts/stream?severity=red&district=${encodeURIComponent(HLG)}`);
    clients.push(c);
    await c.until(() => c.comments.some((m) => m.startsWith('connected')));
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 20, HLG), waterlogging('b', 0, 'P2', 45, TTYN), gasReading('g', 0, 'G1', 60, HLG), waterlogging('c', 10, 'P1', 45, HLG)]);
    await c.untilEvents(2);
    await new Promise((r) => setTimeout(r, 150));
    const got = c.events.map((e) => JSON.parse(e.data) as { action: string; alert: { entityId: string; severity: string } });
    expect(got.map((e) => [e.action, e.alert.entityId, e.alert.severity])).toEqual([
      ['opened', 'G1', 'red'],
      ['escalated', 'P1', 'red'],
    ]);
    const list = (await get(ts.app, `/v1/alerts?severity=red&district=${encodeURIComponent(HLG)}`)).json.items.map((a: { entityId: string }) => a.entityId);
    expect(list.sort()).toEqual(['G1', 'P1']);
  });
});
