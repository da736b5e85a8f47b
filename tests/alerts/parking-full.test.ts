/**
 * "Lot full": occupancy ≥ 95 % held for 5 minutes of event time opens a blue alert when
 * the watermark gets there; a drop below 95 % before that cancels it; resolved below 90 %.
 */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { PARKING_FULL_RULE } from '../../src/alerts/parking-full.js';
import { core, HLG, ms } from '../helpers/events.js';
import { EngineRun } from '../helpers/engine-run.js';

const { lot } = core;
const RULE = PARKING_FULL_RULE;

/** Readings of L1 (capacity 200) every minute from `from` to `to` seconds at `occupied`. */
function readings(from: number, to: number, occupied: number) {
  const out = [];
  for (let t = from; t <= to; t += 60) out.push(lot(t, 'L1', occupied, 200, { district: HLG, name: '回龙观地铁站 P+R' }));
  return out;
}

describe('parking_full', () => {
  it('opens blue once the watermark reaches 5 minutes at ≥ 95 %, not a millisecond earlier', () => {
    const run = new EngineRun();
    run.stream(readings(0, 240, 190)); // 95.0 %
    run.watermarkTo(299.999);
    expect(run.changes).toEqual([]);
    const step = run.watermarkTo(300);
    expect(step.alerts.map((c) => c.action)).toEqual(['opened']);
    expect(step.alerts[0]!.alert).toMatchObject({
      id: alertIdOf(RULE, 'L1', ms(300)),
      rule: RULE,
      category: 'parking',
      entityId: 'L1',
      severity: 'blue',
      district: HLG,
      value: 0.95,
      threshold: 0.95,
      openedAt: ms(300),
      title: '停车场已满：回龙观地铁站 P+R（L1） 占用率 95.0%',
      titleEn: 'Lot full: L1 at 95.0% occupancy',
      history: [{ at: ms(300), action: 'opened', severity: 'blue', by: 'watermark', value: 0.95 }],
    });
  });

  it('a drop below 95 % before the 5 minutes cancels; the next full spell starts the count again', () => {
    const run = new EngineRun();
    run.stream([...readings(0, 240, 196), lot(270, 'L1', 188, 200), lot(290, 'L1', 195, 200)]);
    run.watermarkTo(589.999);
    expect(run.changes).toEqual([]);
    run.watermarkTo(590);
    expect(run.transitions()).toEqual([['opened', RULE, 'L1', 'blue', 'open']]);
    expect(run.changes[0]!.alert.openedAt).toBe(ms(590));
  });

  it('stays open between 90 % and 95 % (hysteresis) and resolves below 90 %', () => {
    const run = new EngineRun();
    run.stream(readings(0, 300, 198));
    run.watermarkTo(400);
    run.stream([lot(460, 'L1', 181, 200), lot(520, 'L1', 180, 200)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'L1', 'blue', 'open']]);
    run.stream([lot(580, 'L1', 179, 200, {}, { id: 'lot-down' })]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'L1', 'blue', 'open'],
      ['resolved', RULE, 'L1', 'blue', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, 'L1')!.history.at(-1)).toEqual({ at: ms(580), action: 'resolved', severity: 'blue', by: 'event:lot-down', value: 0.895 });
  });

  it('a drop that arrives after 5 full minutes but ahead of the watermark does not cancel the alert', () => {
    // In order, the 92 % reading at 320 s arrives while the watermark is at 260 s.
    const run = new EngineRun();
    run.stream([...readings(0, 300, 192), lot(320, 'L1', 184, 200, {}, { id: 'drop' })]);
    expect(run.transitions()).toEqual([['opened', RULE, 'L1', 'blue', 'open']]);
    expect(run.changes[0]!.alert).toMatchObject({ openedAt: ms(300), value: 0.96 });
    run.watermarkTo(1000);
    expect(run.transitions()).toEqual([['opened', RULE, 'L1', 'blue', 'open']]);
  });

  it('…and a drop below 90 % then resolves it at once', () => {
    const run = new EngineRun();
    run.stream([...readings(0, 300, 192), lot(320, 'L1', 100, 200)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'L1', 'blue', 'open'],
      ['resolved', RULE, 'L1', 'blue', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, 'L1')).toMatchObject({ openedAt: ms(300), resolvedAt: ms(320) });
  });

  it('a straggler never moves the alert back', () => {
    const run = new EngineRun();
    run.stream(readings(0, 360, 199));
    run.watermarkTo(400);
    run.stream([lot(470, 'L1', 199, 200), lot(450, 'L1', 10, 200)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'L1', 'blue', 'open']]);
  });
});
