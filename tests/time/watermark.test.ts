/**
 * The event-time watermark (DESIGN §3): tables over "now" values, as the clock is always
 * passed in. Watermark = min over non-idle channels of their newest event time − lateness.
 */
import { describe, expect, it } from 'vitest';
import { WatermarkTracker, type WatermarkConfig } from '../../src/time/watermark.js';

const L = 60_000;
const replay: WatermarkConfig = { latenessMs: L, mode: 'replay', idleTimeoutMs: 5_000 };
const live: WatermarkConfig = { latenessMs: L, mode: 'live', idleTimeoutMs: 5_000 };
const T = 1_784_592_000_000; // 2026-07-21T00:00:00Z, event time
const W = 1_800_000_000_000; // wall clock, unrelated to event time

describe('WatermarkTracker', () => {
  it('has no watermark before the first event, and nothing is late', () => {
    const w = new WatermarkTracker(replay);
    expect(w.watermark).toBe(Number.NEGATIVE_INFINITY);
    expect(w.advance(W)).toBe(Number.NEGATIVE_INFINITY);
    expect(w.isLate(0)).toBe(false);
  });

  it('is the newest event time minus the lateness; older events are late, the boundary itself is not', () => {
    const w = new WatermarkTracker(replay);
    w.observe('a', T + 100_000, W);
    expect(w.advance(W)).toBe(T + 40_000);
    expect(w.isLate(T + 39_999)).toBe(true);
    expect(w.isLate(T + 40_000)).toBe(false);
    expect(w.maxSeen).toBe(T + 100_000);
  });

  it('never moves back when an older event arrives', () => {
    const w = new WatermarkTracker(replay);
    w.observe('a', T + 100_000, W);
    w.advance(W);
    w.observe('a', T + 50_000, W);
    expect(w.advance(W)).toBe(T + 40_000);
  });

  it('is held back by the slowest channel that is not idle (per-partition watermarks)', () => {
    const w = new WatermarkTracker(replay);
    w.observe('p0', T + 600_000, W);
    w.observe('p1', T + 120_000, W);
    expect(w.advance(W)).toBe(T + 60_000);
    w.observe('p1', T + 300_000, W);
    expect(w.advance(W)).toBe(T + 240_000);
    // p1 caught up: only p0 holds time now.
    w.markIdle('p1');
    expect(w.advance(W)).toBe(T + 540_000);
    // An event wakes p1 up again, but the watermark does not go back.
    w.observe('p1', T + 560_000, W);
    expect(w.advance(W)).toBe(T + 540_000);
  });

  it('forgets a removed channel', () => {
    const w = new WatermarkTracker(replay);
    w.observe('p0', T + 600_000, W);
    w.observe('p1', T + 120_000, W);
    expect(w.advance(W)).toBe(T + 60_000);
    w.removeChannel('p1');
    expect(w.advance(W)).toBe(T + 540_000);
  });

  it('replay: once every channel is idle it stops at the newest event minus lateness, whatever the wall clock says', () => {
    const w = new WatermarkTracker(replay);
    w.observe('a', T + 100_000, W);
    w.markIdle('a');
    const table: Array<[number, number]> = [
      [W, T + 40_000],
      [W + 1_000, T + 40_000],
      [W + 3_600_000, T + 40_000],
    ];
    for (const [now, expected] of table) expect(w.advance(now), `now = W + ${now - W}`).toBe(expected);
  });

  it('replay: a channel is never idle by wall time alone', () => {
    const w = new WatermarkTracker(replay);
    w.observe('a', T + 100_000, W);
    w.observe('b', T + 200_000, W);
    expect(w.advance(W + 3_600_000)).toBe(T + 40_000);
  });

  it('live: a channel silent for the idle timeout stops holding time back', () => {
    const w = new WatermarkTracker(live);
    w.observe('slow', T + 100_000, W);
    w.observe('fast', T + 400_000, W + 4_000);
    const table: Array<[number, number]> = [
      [W + 4_000, T + 40_000], // slow arrived 4 s ago: still active
      [W + 4_999, T + 40_000],
      [W + 5_000, T + 340_000], // slow idle; fast (1 s ago) holds
    ];
    for (const [now, expected] of table) expect(w.advance(now), `now = W + ${now - W}`).toBe(expected);
  });

  it('live: while every channel is idle, event time passes as wall time does', () => {
    const w = new WatermarkTracker(live);
    w.observe('http', T + 100_000, W);
    w.markIdle('http');
    const table: Array<[number, number]> = [
      [W, T + 40_000],
      [W + 1_000, T + 41_000],
      [W + 60_000, T + 100_000],
      [W + 360_000, T + 400_000],
    ];
    for (const [now, expected] of table) expect(w.advance(now), `now = W + ${now - W}`).toBe(expected);
    // A wall clock that steps back does not move the watermark back.
    expect(w.advance(W)).toBe(T + 400_000);
  });

  it('live: idleness by timeout also lets time pass with the wall clock', () => {
    const w = new WatermarkTracker(live);
    w.observe('a', T, W);
    expect(w.advance(W + 4_999)).toBe(T - L);
    expect(w.advance(W + 5_000)).toBe(T - L + 5_000);
  });

  it('clock(): the newest event time, extrapolated by quiet wall time in live mode only', () => {
    const l = new WatermarkTracker(live);
    const r = new WatermarkTracker(replay);
    expect(l.clock(W)).toBe(W);
    expect(r.clock(W)).toBe(0);
    l.observe('a', T, W);
    r.observe('a', T, W);
    expect(l.clock(W + 7_000)).toBe(T + 7_000);
    expect(r.clock(W + 7_000)).toBe(T);
    expect(l.clock(W - 1_000)).toBe(T);
  });

  it('survives a JSON round trip of its snapshot', () => {
    const w = new WatermarkTracker(live);
    w.observe('p0', T + 600_000, W);
    w.observe('p1', T + 120_000, W + 1_000);
    w.markIdle('p0');
    w.advance(W + 1_000);
    const copy = new WatermarkTracker(live);
    copy.restore(JSON.parse(JSON.stringify(w.snapshot())));
    expect(copy.watermark).toBe(w.watermark);
    expect(copy.maxSeen).toBe(w.maxSeen);
    for (const now of [W + 1_000, W + 5_999, W + 6_000, W + 90_000]) expect(copy.advance(now)).toBe(w.advance(now));
  });

  it('an empty tracker survives a JSON round trip (-Infinity travels as null)', () => {
    const copy = new WatermarkTracker(replay);
    copy.restore(JSON.parse(JSON.stringify(new WatermarkTracker(replay).snapshot())));
    expect(copy.watermark).toBe(Number.NEGATIVE_INFINITY);
    copy.observe('a', T, W);
    expect(copy.advance(W)).toBe(T - L);
  });
});
