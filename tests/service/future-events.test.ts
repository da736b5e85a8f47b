/**
 * An event stamped too far ahead is refused: one sensor with a clock a year (or a time
 * zone) ahead must not push event time on and make every honest event after it late. Live
 * mode compares with the wall clock; replay mode, which has none, with the newest event
 * time of the stream so far (issue 9: one such event made 94,625 of the next 94,628 late).
 */
import { describe, expect, it } from 'vitest';
import { cloudEvent, ndjson } from '../helpers/events.js';
import { call, startTestService, useServiceCleanup, WALL_START } from '../helpers/service.js';

useServiceCleanup();

const wl = (id: string, time: number) => ({ ...cloudEvent('huitian.waterlogging.reading', id, 0, { pointId: 'P1', depthCm: 3 }), time: new Date(time).toISOString() });

describe('events stamped in the future', () => {
  it('are rejected as future in live mode, dead-lettered, and leave the watermark alone', async () => {
    const s = await startTestService({ env: { HUITIAN_TIME_MODE: 'live', HUITIAN_MAX_FUTURE_S: '600' } });
    const body = ndjson([wl('now', WALL_START - 1000), wl('year-ahead', WALL_START + 365 * 86_400_000), wl('nine-min-ahead', WALL_START + 540_000)]);
    const res = await call(s.app, 'POST', '/v1/events', { body, contentType: 'application/x-ndjson' });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: 1,
      errors: [{ index: 1, id: 'year-ahead', reason: "time: more than 600 s ahead of the service clock (is the producer's clock wrong?)" }],
    });
    expect(s.service.pipeline.engine.stats().maxEventTime).toBe(WALL_START + 540_000);
    const letters = await call(s.app, 'GET', '/v1/dead-letters');
    expect(letters.json.items[0]).toMatchObject({ eventId: 'year-ahead', reason: expect.stringMatching(/^time: more than 600 s ahead/) });
    // An honest event after it is not late.
    const next = await call(s.app, 'POST', '/v1/events', { body: ndjson([wl('later', WALL_START + 500_000)]), contentType: 'application/x-ndjson' });
    expect(next.json).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('are rejected as future in replay mode too, ahead of the newest event time, and time does not move', async () => {
    const s = await startTestService({ env: { HUITIAN_TIME_MODE: 'replay' } });
    const T = Date.parse('2026-07-21T08:00:00+08:00');
    const before = Array.from({ length: 50 }, (_, i) => wl(`b${i}`, T + i * 60_000));
    // A wrong date (two days on) and a wrong year.
    const poison = [wl('wrong-date', T + 50 * 60_000 + 2 * 86_400_000), wl('year-ahead', T + 365 * 86_400_000)];
    const after = Array.from({ length: 1000 }, (_, i) => wl(`a${i}`, T + 50 * 60_000 + i * 1000));
    const res = await call(s.app, 'POST', '/v1/events', { body: ndjson([...before, ...poison, ...after]), contentType: 'application/x-ndjson' });
    const reason = 'time: more than 86400 s ahead of the newest event time so far (is the producer\'s clock wrong? a stream quiet for longer needs a larger HUITIAN_MAX_FUTURE_S)';
    expect(res.json).toEqual({
      accepted: 1050,
      duplicates: 0,
      rejected: 2,
      errors: [
        { index: 50, id: 'wrong-date', reason },
        { index: 51, id: 'year-ahead', reason },
      ],
    });
    expect(s.service.pipeline.engine.stats()).toMatchObject({ late: 0, future: 2, maxEventTime: T + 50 * 60_000 + 999_000 });
    const metrics = (await call(s.app, 'GET', '/metrics')).body;
    expect(metrics).toContain('huitian_events_future_total{type="huitian.waterlogging.reading"} 2');
    const letters = await call(s.app, 'GET', '/v1/dead-letters');
    expect(letters.json.items.map((d: { eventId: string }) => d.eventId)).toEqual(['year-ahead', 'wrong-date']);
  });

  it('are taken in replay mode as the first event of a stream, which has nothing to be compared with', async () => {
    const s = await startTestService({ env: { HUITIAN_TIME_MODE: 'replay' } });
    const res = await call(s.app, 'POST', '/v1/events', { body: ndjson([wl('year-ahead', WALL_START + 365 * 86_400_000)]), contentType: 'application/x-ndjson' });
    expect(res.json).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('in replay mode follow HUITIAN_MAX_FUTURE_S when it is set', async () => {
    const s = await startTestService({ env: { HUITIAN_TIME_MODE: 'replay', HUITIAN_MAX_FUTURE_S: '60' } });
    const res = await call(s.app, 'POST', '/v1/events', { body: ndjson([wl('t0', WALL_START), wl('t61', WALL_START + 61_000), wl('t60', WALL_START + 60_000)]), contentType: 'application/x-ndjson' });
    expect(res.json).toMatchObject({ accepted: 2, rejected: 1, errors: [{ index: 1, id: 't61' }] });
  });
});
