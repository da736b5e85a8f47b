/** Utility alarms forwarded by the operators' systems: raised opens, cleared resolves (lineId, code). */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { UTILITY_ALARM_RULE, utilityAlarmEntity } from '../../src/alerts/utility-alarm.js';
import { core, HLG, ms } from '../helpers/events.js';
import { EngineRun } from '../helpers/engine-run.js';

const { alarm } = core;
const RULE = UTILITY_ALARM_RULE;

describe('utility_alarm', () => {
  it('`raised` opens at the event’s level, yellow by default; `cleared` resolves the same (line, code)', () => {
    const run = new EngineRun();
    run.stream([
      alarm(0, 'W1', 'P-LOW', 'raised', { district: HLG, message: '管网压力低' }, { id: 'a1' }),
      alarm(10, 'W1', 'LEAK', 'raised', { level: 'orange' }),
      alarm(20, 'W1', 'P-LOW', 'cleared', { message: '压力恢复' }, { id: 'a3' }),
    ]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'W1/P-LOW', 'yellow', 'open'],
      ['opened', RULE, 'W1/LEAK', 'orange', 'open'],
      ['resolved', RULE, 'W1/P-LOW', 'yellow', 'resolved'],
    ]);
    const lowPressure = run.lastAlert(RULE, 'W1/P-LOW')!;
    expect(lowPressure).toMatchObject({
      id: alertIdOf(RULE, utilityAlarmEntity('W1', 'P-LOW'), ms(0)),
      category: 'utility',
      district: HLG,
      title: '供水管线黄色报警：W1 报警码 P-LOW',
      message: '供水管线 W1 上报报警 P-LOW：管网压力低',
      resolvedAt: ms(20),
    });
    expect(lowPressure.history.at(-1)).toEqual({ at: ms(20), action: 'resolved', severity: 'yellow', by: 'event:a3', note: '压力恢复' });
    expect(run.engine.stats().activeAlerts).toBe(1);
  });

  it('a higher level escalates the open alarm; a lower one changes nothing', () => {
    const run = new EngineRun();
    run.stream([alarm(0, 'W1', 'C', 'raised', { level: 'yellow' }), alarm(10, 'W1', 'C', 'raised', { level: 'red' }), alarm(20, 'W1', 'C', 'raised', { level: 'blue' })]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'W1/C', 'yellow', 'open'],
      ['escalated', RULE, 'W1/C', 'red', 'open'],
    ]);
  });

  it('line `A/B` code `C` and line `A` code `B/C` are two alarms: clearing one leaves the other open', () => {
    const run = new EngineRun();
    run.stream([alarm(0, 'A/B', 'C', 'raised'), alarm(10, 'A', 'B/C', 'raised'), alarm(20, 'A', 'B/C', 'cleared')]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'A%2FB/C', 'yellow', 'open'],
      ['opened', RULE, 'A/B/C', 'yellow', 'open'],
      ['resolved', RULE, 'A/B/C', 'yellow', 'resolved'],
    ]);
    expect(run.engine.stats().activeAlerts).toBe(1);
    // The gauge counts them apart too.
    run.watermarkTo(120);
    expect(run.family('utility_alarms').map((p) => p.fields.active)).toEqual([1, 1]);
    expect(utilityAlarmEntity('P%1', 'C')).toBe('P%251/C');
  });

  it('a clear for an alarm that is not open changes nothing', () => {
    const run = new EngineRun();
    run.stream([alarm(0, 'W1', 'C', 'cleared')]);
    expect(run.changes).toEqual([]);
  });

  it('a `raised` older than the clear already seen does not open the alarm again', () => {
    const run = new EngineRun();
    run.stream([alarm(0, 'W1', 'C', 'raised'), alarm(60, 'W1', 'C', 'cleared'), alarm(30, 'W1', 'C', 'raised', { level: 'red' })]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'W1/C', 'yellow', 'open'],
      ['resolved', RULE, 'W1/C', 'yellow', 'resolved'],
    ]);
    // A newer raise does.
    run.stream([alarm(90, 'W1', 'C', 'raised')]);
    expect(run.transitions().at(-1)).toEqual(['opened', RULE, 'W1/C', 'yellow', 'open']);
  });

  it('a clear delivered before an older raise leaves the alarm cleared', () => {
    const run = new EngineRun();
    run.stream([alarm(60, 'W1', 'C', 'cleared'), alarm(30, 'W1', 'C', 'raised')]);
    expect(run.changes).toEqual([]);
  });
});
