import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from '../../src/events/event-time.js';
import { mergeByTime } from '../../src/simulator/merge.js';
import { Rng } from '../../src/simulator/prng.js';
import { BeijingTimeFormatter, toCloudEventLine, type SimEvent } from '../../src/simulator/sim-event.js';
import { simulate } from '../../src/simulator/simulate.js';
import { options } from './fixtures.js';

function hashOf(o: Parameters<typeof simulate>[0]): { hash: string; lines: number } {
  const h = createHash('sha256');
  let lines = 0;
  for (const line of simulate(o)) {
    h.update(line);
    h.update('\n');
    lines++;
  }
  return { hash: h.digest('hex'), lines };
}

describe('determinism', () => {
  it('gives byte-identical output for identical arguments, faults included', () => {
    const o = options('mixed', '6h', { faults: 0.02, rateScale: 1.5 });
    const a = hashOf(o);
    const b = hashOf(o);
    expect(a.lines).toBeGreaterThan(5000);
    expect(b).toEqual(a);
  });

  it('gives a different stream for a different seed', () => {
    const a = hashOf(options('mixed', '2h', { seed: 1 }));
    const b = hashOf(options('mixed', '2h', { seed: 2 }));
    expect(b.hash).not.toBe(a.hash);
  });

  it('gives the same truth for identical arguments', () => {
    const run = () => {
      const sim = simulate(options('fire-week', '3d', { faults: 0.05 }));
      for (const _ of sim);
      return JSON.stringify(sim.truth());
    };
    expect(run()).toBe(run());
  });

  it('draws the same numbers from the same named stream, different ones from another name', () => {
    const draw = (seed: number, name: string) => Array.from({ length: 5 }, ((r) => () => r.nextUint32())(new Rng(seed, name)));
    expect(draw(42, 'a')).toEqual(draw(42, 'a'));
    expect(draw(42, 'a')).not.toEqual(draw(42, 'b'));
    expect(draw(42, 'a')).not.toEqual(draw(43, 'a'));
    const r = new Rng(7, 'uniformity');
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += r.next();
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });
});

describe('stream shape', () => {
  const lines = [...simulate(options('mixed', '4h'))];
  const events = lines.map((l) => JSON.parse(l) as { id: string; source: string; time: string; specversion: string });

  it('writes structured-mode CloudEvents 1.0 in Beijing time, one per line', () => {
    for (const e of events) {
      expect(e.specversion).toBe('1.0');
      expect(e.time).toMatch(/^2026-07-21T\d{2}:\d{2}:\d{2}\+08:00$/);
    }
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(['/sensors/waterlogging', '/dispatch/119', '/parking/guidance', '/utility/scada']));
  });

  it('is sorted by event time when no disorder is injected', () => {
    const times = events.map((e) => parseRfc3339(e.time)!);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[0]!).toBeGreaterThanOrEqual(Date.parse('2026-07-21T00:00:00+08:00'));
    expect(times[times.length - 1]!).toBeLessThan(Date.parse('2026-07-21T04:00:00+08:00'));
  });

  it('gives every event a unique (source, id)', () => {
    const keys = new Set(events.map((e) => `${e.source} ${e.id}`));
    expect(keys.size).toBe(events.length);
  });

  it('writes exactly what JSON.stringify of the envelope would', () => {
    const times = new BeijingTimeFormatter();
    const e: SimEvent = {
      time: Date.parse('2026-07-21T08:15:00+08:00'),
      type: 'huitian.waterlogging.reading',
      source: '/sensors/waterlogging',
      id: 'WL-01-000042',
      subject: 'WL-01',
      data: { pointId: 'WL-01', depthCm: 18.5, district: '回龙观街道', name: '京藏高速辅路"回龙观"桥下\\' },
    };
    const expected = JSON.stringify({ specversion: '1.0', id: e.id, source: e.source, type: e.type, time: '2026-07-21T08:15:00+08:00', subject: e.subject, data: e.data });
    expect(toCloudEventLine(e, times)).toBe(expected);
    for (const line of lines.slice(0, 2000)) expect(JSON.stringify(JSON.parse(line))).toBe(line);
  });

  it('merges per-entity streams by time, ties in input order', () => {
    const ev = (time: number, id: string) => ({ time, id }) as unknown as SimEvent;
    const merged = [...mergeByTime([[ev(1, 'a1'), ev(5, 'a5')], [ev(1, 'b1'), ev(2, 'b2')], [], [ev(0, 'c0'), ev(5, 'c5')]])].map((e) => e.id);
    expect(merged).toEqual(['c0', 'a1', 'b1', 'b2', 'a5', 'c5']);
  });
});
