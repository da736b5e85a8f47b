/**
 * `huitian replay` over real HTTP into a listening service: the bundled scenario's
 * 5-minute coverage against the hand computation, the accepted/duplicates/rejected
 * summary, 429 Retry-After, pacing by event time, and the errors that stop a replay.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeProgress } from '../../src/cli/progress.js';
import { parseSpeed, targetFor } from '../../src/cli/replay-command.js';
import { HttpReplayTarget } from '../../src/replay/http-target.js';
import { replay } from '../../src/replay/replay.js';
import { ReplayError, type ReplayTarget } from '../../src/replay/replay-target.js';
import { beijing, FIRE_FIXTURE, FIRE_FIXTURE_EVENTS, HAND_COMPUTED } from '../fixtures/fire-response-small.js';
import { HLG, received, waterlogging } from '../helpers/events.js';
import { startTestService, tempDir, TOKENS, useServiceCleanup, type StartOptions } from '../helpers/service.js';

useServiceCleanup();
afterEach(() => {
  vi.useRealTimers();
});

async function listening(options: StartOptions = {}) {
  const ts = await startTestService(options);
  const base = await ts.app.listen({ port: 0, host: '127.0.0.1' });
  return { ts, base };
}

async function getJson(url: string, token?: string): Promise<any> {
  const r = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return r.json();
}

const END_OF_FIXTURE = Date.parse('2026-07-21T08:30:00+08:00');
const MORNING = `from=${encodeURIComponent(beijing('08:00'))}&to=${encodeURIComponent(beijing('09:00'))}`;

describe('replay into a running server over HTTP', () => {
  it('replays the bundled fire scenario; the server reports the hand-computed 5-minute coverage', async () => {
    const { base } = await listening({ auth: true });
    const result = await replay({
      file: FIRE_FIXTURE,
      target: new HttpReplayTarget({ baseUrl: base, token: TOKENS.ingest }),
      speed: Number.POSITIVE_INFINITY,
      batchSize: 5,
    });
    expect(result).toMatchObject({ sent: FIRE_FIXTURE_EVENTS, accepted: FIRE_FIXTURE_EVENTS, duplicates: 0, rejected: 0, eventTime: END_OF_FIXTURE });

    const coverage = await getJson(`${base}/v1/kpis/fire_response_coverage_5min?${MORNING}&groupBy=district`, TOKENS.viewer);
    expect(coverage).toMatchObject({
      value: HAND_COMPUTED.coverage,
      numerator: HAND_COMPUTED.covered,
      denominator: HAND_COMPUTED.covered + HAND_COMPUTED.missed,
      meetsTarget: false,
      groups: HAND_COMPUTED.byDistrict,
    });
    const p90 = await getJson(`${base}/v1/kpis/fire_response_time_p90?${MORNING}`, TOKENS.viewer);
    expect(p90.value).toBe(HAND_COMPUTED.p90Seconds);
    const overdue = await getJson(`${base}/v1/alerts?category=dispatch`, TOKENS.viewer);
    expect(overdue.items.map((a: { entityId: string; openedAt: string; resolvedAt: string }) => [a.entityId, a.openedAt, a.resolvedAt])).toEqual([
      ['F7', '2026-07-21T08:14:30+08:00', '2026-07-21T08:30:00+08:00'],
      // F2's first unit arrived at 301 s: overdue at the 300 s mark, resolved by that arrival.
      ['F2', '2026-07-21T08:06:20+08:00', '2026-07-21T08:06:21+08:00'],
    ]);

    // A second replay changes nothing. The two events still within the duplicate memory
    // (15 min behind the 08:29 watermark) are duplicates; the older ones are late.
    const again = await replay({ file: FIRE_FIXTURE, target: new HttpReplayTarget({ baseUrl: base, token: TOKENS.admin }), speed: Number.POSITIVE_INFINITY });
    expect(again).toMatchObject({ sent: 21, accepted: 0, duplicates: 2, rejected: 19 });
    expect((await getJson(`${base}/v1/kpis/fire_response_coverage_5min?${MORNING}`, TOKENS.viewer)).value).toBe(0.6);
  });

  it('reports accepted, duplicates and rejected for a file with bad lines, even a batch of only bad ones', async () => {
    const { ts, base } = await listening();
    const file = join(tempDir(), 'mixed.ndjson');
    const good = (i: number) => JSON.stringify(waterlogging(`m${i}`, i * 10, `P${i}`, 5, HLG));
    writeFileSync(file, [good(1), good(2), good(1), 'not json', '{"specversion":"1.0"}', good(3), '', good(4)].join('\n') + '\n');
    const progress: number[] = [];
    const result = await replay({
      file,
      target: new HttpReplayTarget({ baseUrl: base }),
      speed: Number.POSITIVE_INFINITY,
      batchSize: 2,
      onProgress: (p) => progress.push(p.sent),
    });
    // Batches: [1, 2] [1 again, not json] [bad envelope, 3] [4].
    expect(result).toMatchObject({ sent: 7, accepted: 4, duplicates: 1, rejected: 2 });
    expect(progress).toEqual([2, 4, 6, 7]);
    expect(ts.service.pipeline.engine.stats()).toMatchObject({ accepted: 4, duplicates: 1 });
  });

  it('splits the rejected into late, invalid, future and conflict in the summary (issue 9)', async () => {
    const { base } = await listening();
    const file = join(tempDir(), 'kinds.ndjson');
    const lines = [
      JSON.stringify(waterlogging('k1', 600, 'P1', 5, HLG)),
      JSON.stringify(waterlogging('k1', 600, 'P1', 5, HLG)), // duplicate
      JSON.stringify(waterlogging('k2', 100, 'P2', 5, HLG)), // late: the watermark is at 540 s
      JSON.stringify(waterlogging('k3', 610, 'P3', -1, HLG)), // invalid
      '{"not": "an event"', // invalid
      JSON.stringify(waterlogging('k4', 600 + 2 * 86_400, 'P4', 5, HLG)), // future: two days ahead
      JSON.stringify(received('k5', 620, 'F1', 'fire', HLG)),
      JSON.stringify(received('k6', 700, 'F1', 'fire', HLG)), // conflict: F1 again, another time
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const result = await replay({ file, target: new HttpReplayTarget({ baseUrl: base }), speed: Number.POSITIVE_INFINITY, batchSize: 3 });
    expect(result).toMatchObject({ sent: 8, accepted: 2, duplicates: 1, rejected: 5, late: 1, invalid: 2, future: 1, conflicts: 1 });
    expect(describeProgress(result, 'Asia/Shanghai')).toMatch(/ · accepted 2 · duplicates 1 · rejected 5 \(1 late, 2 invalid, 1 future, 1 conflict\)$/);
    // Without future or conflicts they are not mentioned; a broker target does not say.
    const plain = { ...result, rejected: 3, future: 0, conflicts: 0 };
    expect(describeProgress(plain, 'Asia/Shanghai')).toMatch(/ · rejected 3 \(1 late, 2 invalid\)$/);
    expect(describeProgress(plain, 'Asia/Shanghai', false)).toMatch(/^sent 8 · .* · the service decides what it accepts \(its \/metrics and \/v1\/dead-letters say\)$/);
  });

  it('honours 429 Retry-After: waits as told and completes', async () => {
    // The rate limiter's window is a minute of Date.now(); the sleep the replay is given
    // moves that clock instead of waiting a real minute.
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ts, base } = await listening({ overrides: { ingestRateLimit: 2 } });
    const waits: number[] = [];
    const backoffs: Array<[number, string]> = [];
    const target = new HttpReplayTarget({
      baseUrl: base,
      onBackoff: (ms, why) => backoffs.push([ms, why]),
      sleep: async (ms) => {
        waits.push(ms);
        vi.setSystemTime(Date.now() + ms);
      },
    });
    // 21 events in batches of 3: 7 requests, 2 allowed per minute → 3 waits.
    const result = await replay({ file: FIRE_FIXTURE, target, speed: Number.POSITIVE_INFINITY, batchSize: 3 });
    expect(result).toMatchObject({ sent: 21, accepted: 21, duplicates: 0, rejected: 0 });
    expect(waits).toEqual([60_000, 60_000, 60_000]);
    expect(backoffs).toEqual([
      [60_000, 'rate limited (429)'],
      [60_000, 'rate limited (429)'],
      [60_000, 'rate limited (429)'],
    ]);
    expect(ts.service.pipeline.engine.stats().accepted).toBe(21);
  });

  it('stops with a ReplayError on a refused token, a too large batch or an unreachable server', async () => {
    const { base } = await listening({ auth: true, overrides: { bodyLimitBytes: 2048 } });
    const speed = Number.POSITIVE_INFINITY;
    await expect(replay({ file: FIRE_FIXTURE, target: new HttpReplayTarget({ baseUrl: base, token: 'not-a-token' }), speed })).rejects.toThrow(
      new ReplayError(`${base}/v1/events answered 401: a valid bearer token is required (Authorization: Bearer <token>)`, false),
    );
    await expect(replay({ file: FIRE_FIXTURE, target: new HttpReplayTarget({ baseUrl: base, token: TOKENS.viewer }), speed })).rejects.toThrow(
      /answered 403: role viewer may not ingest/,
    );
    await expect(replay({ file: FIRE_FIXTURE, target: new HttpReplayTarget({ baseUrl: base, token: TOKENS.ingest }), speed, batchSize: 21 })).rejects.toThrow(
      /answered 413: the request body is larger than 2048 bytes; split the batch/,
    );
    const waits: number[] = [];
    const unreachable = new HttpReplayTarget({ baseUrl: 'http://127.0.0.1:9', maxAttempts: 3, sleep: async (ms) => void waits.push(ms) });
    const error = await replay({ file: FIRE_FIXTURE, target: unreachable, speed }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayError);
    expect((error as ReplayError).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:9\/v1\/events: /);
    expect((error as ReplayError).retriable).toBe(true);
    expect(waits).toEqual([250, 500]);
  });
});

describe('replay pacing', () => {
  /** A target that records what it was sent and when (on the fake clock). */
  function recorder(clock: { ms: number }) {
    const sends: Array<{ at: number; ids: string[] }> = [];
    const target: ReplayTarget = {
      description: 'memory',
      async send(lines) {
        sends.push({ at: clock.ms, ids: lines.map((l) => (JSON.parse(l) as { id: string }).id) });
        return { accepted: lines.length, duplicates: 0, rejected: 0 };
      },
      async close() {},
    };
    return { target, sends };
  }

  it('sends each event at its event-time offset divided by the speed, in file order', async () => {
    const file = join(tempDir(), 'paced.ndjson');
    // Event times 0, 30, 30, 60, 20 (a straggler, sent in file order), 600 s.
    const times = [0, 30, 30, 60, 20, 600];
    writeFileSync(file, times.map((t, i) => JSON.stringify(waterlogging(`e${i}`, t, 'P1', 1, HLG))).join('\n') + '\n');
    const clock = { ms: 1_000_000 };
    const { target, sends } = recorder(clock);
    const sleeps: number[] = [];
    const result = await replay({
      file,
      target,
      speed: 60,
      wallClock: () => clock.ms,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.ms += ms;
      },
    });
    // At 60× the offsets 0, 30, 60 and 600 s are due 0, 500, 1000 and 10 000 ms after the start.
    expect(sends).toEqual([
      { at: 1_000_000, ids: ['e0'] },
      { at: 1_000_500, ids: ['e1', 'e2'] },
      { at: 1_001_000, ids: ['e3', 'e4'] },
      { at: 1_010_000, ids: ['e5'] },
    ]);
    expect(sleeps).toEqual([500, 500, 9000]);
    expect(result).toMatchObject({ sent: 6, accepted: 6, elapsedMs: 10_000 });
  });

  it('does not wait at speed max', async () => {
    const clock = { ms: 0 };
    const { target, sends } = recorder(clock);
    const sleeps: number[] = [];
    await replay({ file: FIRE_FIXTURE, target, speed: Number.POSITIVE_INFINITY, batchSize: 10, wallClock: () => clock.ms, sleep: async (ms) => void sleeps.push(ms) });
    expect(sleeps).toEqual([]);
    expect(sends.map((s) => s.ids.length)).toEqual([10, 10, 1]);
    const ids = readFileSync(FIRE_FIXTURE, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(sends.flatMap((s) => s.ids)).toEqual(ids);
  });
});

describe('replay command arguments', () => {
  it('parses --speed', () => {
    expect(parseSpeed('max')).toBe(Number.POSITIVE_INFINITY);
    expect(parseSpeed('60')).toBe(60);
    expect(parseSpeed('0.5')).toBe(0.5);
    for (const bad of ['0', '-1', 'fast', '', 'Infinity']) expect(() => parseSpeed(bad), bad).toThrow(InvalidArgumentError);
  });

  it('builds an HTTP target for http(s) URLs and refuses other schemes', async () => {
    const target = await targetFor('http://127.0.0.1:8080/', undefined, () => {});
    expect(target).toBeInstanceOf(HttpReplayTarget);
    expect(target.description).toBe('http://127.0.0.1:8080');
    await expect(targetFor('ftp://example.org', undefined, () => {})).rejects.toThrow(/unsupported scheme ftp:/);
    await expect(targetFor('127.0.0.1:8080', undefined, () => {})).rejects.toThrow(InvalidArgumentError);
  });
});
