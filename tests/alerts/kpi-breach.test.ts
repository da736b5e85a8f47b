/**
 * KPI breach: 5-minute fire response coverage over the trailing 24 h below 0.80, with at
 * least 10 incidents decided → yellow; resolved when it is back at or above 0.80.
 */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { COVERAGE_ENTITY, KPI_BREACH_RULE } from '../../src/alerts/kpi-breach.js';
import { core, HLG, ms } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';
import { DEFAULT_RULES, rulesConfigSchema } from '../../src/alerts/rules-config.js';
import { fireResponseCoverage } from '../../src/kpis/fire-response.js';
import type { HuitianEvent } from '../../src/events/schemas.js';

const RULE = KPI_BREACH_RULE;

/** Incident `id` received at `r` s, dispatched at once; a unit arrives at +100 s, or never. */
function incident(id: string, r: number, covered: boolean): HuitianEvent[] {
  const events: HuitianEvent[] = [core.received(r, id, 'fire', HLG), core.dispatched(r, id, 'U', 'S1')];
  if (covered) events.push(core.arrived(r + 100, id, 'U'));
  return events;
}

describe('kpi_breach', () => {
  it('opens at the first minute with ≥ 10 decided and coverage < 0.8, and resolves at the first minute back at 0.8', () => {
    const run = new EngineRun();
    // I0–I2 missed (decided at 300, 360, 420 s); I3–I9 covered (decided at 280 … 640 s).
    const events = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => incident(`I${i}`, i * 60, i >= 3));
    run.streamSorted(events);
    run.watermarkTo(659.999);
    // Nine decided by the 600 s boundary: 6/9 is below target but too few to judge.
    expect(run.transitions(RULE)).toEqual([]);
    run.watermarkTo(660);
    expect(run.transitions(RULE)).toEqual([['opened', RULE, COVERAGE_ENTITY, 'yellow', 'open']]);
    expect(run.lastAlert(RULE, COVERAGE_ENTITY)).toMatchObject({
      id: alertIdOf(RULE, COVERAGE_ENTITY, ms(660)),
      category: 'kpi',
      district: '全区',
      value: 0.7,
      threshold: 0.8,
      openedAt: ms(660),
      title: '指标未达标：近 24 小时消防 5 分钟响应覆盖率 70.0%',
    });
    // Five more covered incidents (decided at 820 … 1060 s): 11/14 at 1020 s, 12/15 = 0.8 at 1080 s.
    run.streamSorted([10, 11, 12, 13, 14].flatMap((i) => incident(`I${i}`, 720 + (i - 10) * 60, true)));
    run.watermarkTo(1079.999);
    expect(run.transitions(RULE)).toHaveLength(1);
    run.watermarkTo(1080);
    expect(run.transitions(RULE)).toEqual([
      ['opened', RULE, COVERAGE_ENTITY, 'yellow', 'open'],
      ['resolved', RULE, COVERAGE_ENTITY, 'yellow', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, COVERAGE_ENTITY)!.history.at(-1)).toEqual({ at: ms(1080), action: 'resolved', severity: 'yellow', by: 'watermark', value: 0.8 });
    expect(run.kpi('fire_response_coverage_5min')).toMatchObject({ value: 0.8, numerator: 12, denominator: 15 });
  });

  it('stays quiet at or above target', () => {
    const run = new EngineRun();
    run.streamSorted([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => incident(`I${i}`, i * 60, i >= 2)));
    run.watermarkTo(3600);
    expect(run.kpi('fire_response_coverage_5min')).toMatchObject({ value: 0.8 });
    expect(run.transitions(RULE)).toEqual([]);
  });

  it('forgets incidents that leave the 24 h window', () => {
    const run = new EngineRun();
    // I0–I4 missed, I5–I9 covered: 5/10.
    run.streamSorted([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => incident(`I${i}`, i * 60, i >= 5)));
    run.watermarkTo(3600);
    expect(run.transitions(RULE)).toEqual([['opened', RULE, COVERAGE_ENTITY, 'yellow', 'open']]);
    // The minutes of I0, I1, … leave the window one by one, 24 h after they were received.
    // At 86 580 s the window holds I3–I9 (5/7 = 0.71); at 86 640 s, I4–I9 (5/6 = 0.83).
    run.watermarkTo(86_639.999);
    expect(run.transitions(RULE)).toHaveLength(1);
    run.watermarkTo(86_640);
    expect(run.transitions(RULE)).toEqual([
      ['opened', RULE, COVERAGE_ENTITY, 'yellow', 'open'],
      ['resolved', RULE, COVERAGE_ENTITY, 'yellow', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, COVERAGE_ENTITY)!.history.at(-1)).toEqual({ at: ms(86_640), action: 'resolved', severity: 'yellow', by: 'watermark', value: 5 / 6 });
  });

  it('takes its target from the KPI catalogue unless the rules set one', () => {
    expect(DEFAULT_RULES.kpiBreach.target).toBeUndefined();
    // 8 of 10 covered: meets the catalogue's 0.80, misses a configured 0.85.
    const events = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => incident(`I${i}`, i * 60, i >= 2));
    const byCatalogue = new EngineRun();
    byCatalogue.streamSorted(events);
    byCatalogue.watermarkTo(3600);
    expect(byCatalogue.transitions(RULE)).toEqual([]);
    const rules = rulesConfigSchema.parse({ kpiBreach: { target: 0.85 } });
    const configured = new EngineRun(engineConfig({ rules }));
    configured.streamSorted(events);
    configured.watermarkTo(3600);
    expect(configured.lastAlert(RULE, COVERAGE_ENTITY)).toMatchObject({ value: 0.8, threshold: 0.85 });
    expect(fireResponseCoverage.target).toBe(0.8);
  });
});
