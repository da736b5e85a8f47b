/** Alert rule thresholds: defaults from the issue, validated at start-up with every problem listed. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, rulesConfigSchema } from '../../src/alerts/rules-config.js';

function problems(input: unknown): string[] {
  const r = rulesConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('rules configuration', () => {
  it('defaults to the issue’s thresholds', () => {
    expect(DEFAULT_RULES).toEqual({
      waterlogging: { yellowCm: 15, orangeCm: 27, redCm: 40, clearBelowCm: 10 },
      gas: { orangePct: 20, redPct: 50, clearBelowPct: 10 },
      parking: { fullRatio: 0.95, forSeconds: 300, clearBelowRatio: 0.9 },
      dispatch: { responseSeconds: 300 },
      sensorSilence: { afterSeconds: 600 },
      // No target of its own: the KPI catalogue's (0.80) applies (tests/alerts/kpi-breach.test.ts).
      kpiBreach: { windowHours: 24, minDecided: 10 },
    });
  });

  it('fills what a partial configuration leaves out', () => {
    const r = rulesConfigSchema.parse({ waterlogging: { yellowCm: 20 }, gas: {} });
    expect(r.waterlogging).toEqual({ yellowCm: 20, orangeCm: 27, redCm: 40, clearBelowCm: 10 });
    expect(r.gas).toEqual(DEFAULT_RULES.gas);
  });

  it('accepts levels in order and a clear level equal to the first level', () => {
    expect(problems({ waterlogging: { yellowCm: 10, orangeCm: 20, redCm: 30, clearBelowCm: 10 } })).toEqual([]);
  });

  it('lists every inconsistency at once, each with its path', () => {
    expect(
      problems({
        waterlogging: { yellowCm: 30, orangeCm: 27, redCm: 27, clearBelowCm: 31 },
        gas: { orangePct: 20, redPct: 20, clearBelowPct: 25 },
        parking: { fullRatio: 0.9, clearBelowRatio: 0.95 },
      }),
    ).toEqual([
      'waterlogging.orangeCm: must be greater than yellowCm',
      'waterlogging.redCm: must be greater than orangeCm',
      'waterlogging.clearBelowCm: must not exceed yellowCm (hysteresis)',
      'gas.redPct: must be greater than orangePct',
      'gas.clearBelowPct: must not exceed orangePct (hysteresis)',
      'parking.clearBelowRatio: must not exceed fullRatio (hysteresis)',
    ]);
  });

  it('refuses impossible values', () => {
    expect(problems({ waterlogging: { yellowCm: -1 } })[0]).toMatch(/^waterlogging\.yellowCm: /);
    expect(problems({ parking: { fullRatio: 0 } })[0]).toMatch(/^parking\.fullRatio: /);
    expect(problems({ kpiBreach: { target: 1.5 } })[0]).toMatch(/^kpiBreach\.target: /);
    expect(problems({ kpiBreach: { minDecided: 2.5 } })[0]).toMatch(/^kpiBreach\.minDecided: /);
    expect(problems({ sensorSilence: { afterSeconds: 0 } })[0]).toMatch(/^sensorSilence\.afterSeconds: /);
  });
});
