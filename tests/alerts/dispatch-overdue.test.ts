/**
 * Response overdue (响应超时): a fire or rescue incident with no unit on scene when the
 * watermark passes clock start + 300 s → orange; resolved by an arrival or the close.
 */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { DISPATCH_OVERDUE_RULE } from '../../src/alerts/dispatch-overdue.js';
import { core, HLG, ms } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const { received, dispatched, arrived, closed } = core;
const RULE = DISPATCH_OVERDUE_RULE;

describe('dispatch_overdue', () => {
  it('is raised only when the watermark passes the dispatch order + 300 s', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F7', 'rescue', HLG), dispatched(30, 'F7', 'U1', '天通苑消防站')]);
    run.watermarkTo(330);
    expect(run.changes).toEqual([]);
    run.watermarkTo(330.001);
    expect(run.changes).toHaveLength(1);
    expect(run.changes[0]!.alert).toEqual({
      id: alertIdOf(RULE, 'F7', ms(330)),
      rule: RULE,
      category: 'dispatch',
      entityId: 'F7',
      severity: 'orange',
      status: 'open',
      title: `响应超时：抢险救援警情 F7（${HLG}）`,
      titleEn: `Response overdue: rescue incident F7 (${HLG})`,
      message: '警情 F7 自出动指令（北京时间 2026-07-21 08:00:30）起 300 秒内无救援力量到场，责任站：天通苑消防站。',
      messageEn: 'No unit reached incident F7 within 300 s of the dispatch order (2026-07-21 08:00:30 Beijing time); station: 天通苑消防站.',
      district: HLG,
      value: null,
      threshold: 300,
      openedAt: ms(330),
      updatedAt: ms(330),
      acknowledgedAt: null,
      resolvedAt: null,
      history: [{ at: ms(330), action: 'opened', severity: 'orange', by: 'watermark', value: null }],
    });
  });

  it('is resolved by the first unit to arrive, on arrival', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1')]);
    run.watermarkTo(400);
    const step = run.feed(arrived(420, 'F1', 'U1', { id: 'arr-1' }));
    expect(step.alerts.map((c) => c.action)).toEqual(['resolved']);
    expect(step.alerts[0]!.alert.resolvedAt).toBe(ms(420));
    expect(step.alerts[0]!.alert.history.at(-1)).toEqual({ at: ms(420), action: 'resolved', severity: 'orange', by: 'event:arr-1', note: 'unit U1 arrived' });
  });

  it('is resolved by the close', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1')]);
    run.watermarkTo(400);
    run.feed(closed(500, 'F1', 'false_alarm', { id: 'close-1' }));
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'F1', 'orange', 'open'],
      ['resolved', RULE, 'F1', 'orange', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, 'F1')!.history.at(-1)).toMatchObject({ at: ms(500), by: 'event:close-1', note: 'incident closed: false_alarm' });
  });

  it('follows event time: an arrival after the deadline that is known before the watermark gets there still leaves the alert, opened and resolved', () => {
    const run = new EngineRun();
    run.stream([received(0, 'F2', 'rescue', HLG), dispatched(20, 'F2', 'U1', 'S1'), arrived(321, 'F2', 'U1', { id: 'late-unit' })]);
    run.watermarkTo(600);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'F2', 'orange', 'open'],
      ['resolved', RULE, 'F2', 'orange', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, 'F2')).toMatchObject({ openedAt: ms(320), resolvedAt: ms(321) });
  });

  it('is not raised for a covered, cancelled or out-of-scope incident', () => {
    const run = new EngineRun();
    run.streamSorted([
      received(0, 'A', 'fire', HLG), dispatched(0, 'A', 'U1', 'S1'), arrived(300, 'A', 'U1'),
      received(0, 'B', 'fire', HLG), dispatched(0, 'B', 'U2', 'S1'), closed(120, 'B', 'cancelled'),
      received(0, 'C', 'medical', HLG), dispatched(0, 'C', 'U3', 'S1'),
    ]);
    run.watermarkTo(3600);
    expect(run.changes).toEqual([]);
  });

  it('received mode counts from the call, and says so', () => {
    const run = new EngineRun(engineConfig({ fireClockStart: 'received' }));
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(100, 'F1', 'U1', 'S1')]);
    run.watermarkTo(301);
    expect(run.changes[0]!.alert).toMatchObject({ openedAt: ms(300), message: '警情 F1 自接警（北京时间 2026-07-21 08:00:00）起 300 秒内无救援力量到场，责任站：S1。' });
  });

  it('writes the clock start in the configured zone (the core reads no clock, only the zone it is given)', () => {
    const run = new EngineRun(engineConfig({ timeZone: 'Asia/Tokyo' }));
    run.stream([received(0, 'F1', 'fire', HLG), dispatched(30, 'F1', 'U1', 'S1')]);
    run.watermarkTo(331);
    expect(run.changes[0]!.alert).toMatchObject({
      message: '警情 F1 自出动指令（UTC+09:00 2026-07-21 09:00:30）起 300 秒内无救援力量到场，责任站：S1。',
      messageEn: 'No unit reached incident F1 within 300 s of the dispatch order (2026-07-21 09:00:30 UTC+09:00); station: S1.',
    });
  });

  describe('with rules.dispatch.responseSeconds configured', () => {
    const withLimit = (responseSeconds: number) => {
      const d = engineConfig().rules;
      return engineConfig({ rules: { ...d, dispatch: { responseSeconds } } });
    };

    it('240 s: the alert comes at the dispatch order + 240 s, while the KPI still counts 280 s as covered', () => {
      const run = new EngineRun(withLimit(240));
      run.stream([received(0, 'F1', 'fire', HLG), dispatched(0, 'F1', 'U1', 'S1')]);
      run.watermarkTo(240);
      expect(run.changes).toEqual([]);
      run.watermarkTo(240.001);
      expect(run.changes[0]!.alert).toMatchObject({ openedAt: ms(240), threshold: 240, message: '警情 F1 自出动指令（北京时间 2026-07-21 08:00:00）起 240 秒内无救援力量到场，责任站：S1。' });
      run.stream([arrived(280, 'F1', 'U1')]);
      run.watermarkTo(1000);
      expect(run.transitions()).toEqual([
        ['opened', RULE, 'F1', 'orange', 'open'],
        ['resolved', RULE, 'F1', 'orange', 'resolved'],
      ]);
      expect(run.kpi('fire_response_coverage_5min')).toMatchObject({ numerator: 1, denominator: 1 });
    });

    it('600 s: an arrival at 400 s is a miss for the KPI but no alert; with no arrival the alert waits for 600 s', () => {
      const run = new EngineRun(withLimit(600));
      run.streamSorted([received(0, 'A', 'fire', HLG), dispatched(0, 'A', 'U1', 'S1'), arrived(400, 'A', 'U1'), received(0, 'B', 'fire', HLG), dispatched(0, 'B', 'U2', 'S1')]);
      run.watermarkTo(600);
      expect(run.kpi('fire_response_coverage_5min')).toMatchObject({ numerator: 0, denominator: 2 });
      expect(run.changes).toEqual([]);
      run.watermarkTo(600.001);
      expect(run.transitions()).toEqual([['opened', RULE, 'B', 'orange', 'open']]);
      expect(run.changes[0]!.alert).toMatchObject({ openedAt: ms(600), threshold: 600 });
      expect(run.kpi('fire_response_time_p90')).toMatchObject({ value: 400, count: 1 });
    });
  });
});
