/**
 * Live mode refuses an event stamped too far ahead of the wall clock: one sensor with a
 * clock a year ahead must not push event time a year on and make every honest event
 * after it late. Replay mode has no wall clock to compare with and takes it.
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

  it('are taken in replay mode, which has no wall clock to compare with', async () => {
    const s = await startTestService({ env: { HUITIAN_TIME_MODE: 'replay' } });
    const res = await call(s.app, 'POST', '/v1/events', { body: ndjson([wl('year-ahead', WALL_START + 365 * 86_400_000)]), contentType: 'application/x-ndjson' });
    expect(res.json).toMatchObject({ accepted: 1, rejected: 0 });
  });
});
