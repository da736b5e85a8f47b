/** The replay progress line and summary write event time in the hub's zone, not UTC. */
import { describe, expect, it } from 'vitest';
import { describeProgress } from '../../src/cli/progress.js';

const progress = { sent: 1200, accepted: 1190, duplicates: 4, rejected: 6, late: 2, invalid: 4, future: 0, conflicts: 0, eventTime: Date.parse('2026-07-20T19:15:35Z'), elapsedMs: 2000 };

describe('describeProgress', () => {
  it('writes event time as Beijing time by default configuration, or in the zone given', () => {
    expect(describeProgress(progress, 'Asia/Shanghai')).toBe(
      'sent 1,200 · 600 ev/s · event time 2026-07-21T03:15:35+08:00 · accepted 1,190 · duplicates 4 · rejected 6 (2 late, 4 invalid)',
    );
    expect(describeProgress(progress, 'UTC')).toContain('event time 2026-07-20T19:15:35+00:00');
    expect(describeProgress({ ...progress, eventTime: null }, 'Asia/Shanghai')).toContain('event time —');
  });
});
