/**
 * Waterlogging depth alert: yellow ≥ 15 cm, orange ≥ 27 cm, red ≥ 40 cm, resolved below
 * 10 cm; no de-escalation in between; acts on arrival; a straggler never moves it back.
 */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { toPublicAlert } from '../../src/alerts/alert.js';
import { WATERLOGGING_DEPTH_RULE } from '../../src/alerts/waterlogging-depth.js';
import { core, HLG, ms } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const { depth } = core;
const RULE = WATERLOGGING_DEPTH_RULE;

describe('waterlogging_depth', () => {
  it('opens yellow at exactly 15 cm, not at 14.9 cm, as the reading arrives', () => {
    const run = new EngineRun();
    expect(run.feed(depth(0, 'P1', 14.9)).alerts).toEqual([]);
    const step = run.feed(depth(60, 'P1', 15, { district: HLG, name: '回龙观东大街桥下' }, { id: 'wl-2' }));
    // Acted on at once, although the watermark (0 s) has not reached the reading.
    expect(step.watermark).toBe(ms(0));
    expect(step.alerts).toHaveLength(1);
    const { action, alert } = step.alerts[0]!;
    expect(action).toBe('opened');
    expect(alert).toEqual({
      id: alertIdOf(RULE, 'P1', ms(60)),
      rule: RULE,
      category: 'flood',
      entityId: 'P1',
      severity: 'yellow',
      status: 'open',
      title: '积水黄色预警：回龙观东大街桥下（P1） 积水 15 厘米',
      titleEn: 'Waterlogging yellow warning: 回龙观东大街桥下 (P1) at 15 cm',
      message: '回龙观东大街桥下（P1） 积水深度 15 厘米，已达黄色预警阈值 15 厘米，请安排排水与交通管制。',
      messageEn: 'Water depth at 回龙观东大街桥下 (P1) is 15 cm, at or above the yellow threshold of 15 cm; dispatch drainage and traffic control.',
      district: HLG,
      value: 15,
      threshold: 15,
      openedAt: ms(60),
      updatedAt: ms(60),
      acknowledgedAt: null,
      resolvedAt: null,
      history: [{ at: ms(60), action: 'opened', severity: 'yellow', by: 'event:wl-2', value: 15 }],
    });
  });

  it('escalates the same alert to orange at 27 cm and red at 40 cm, appending history', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 20), depth(60, 'P1', 26.9), depth(120, 'P1', 27), depth(180, 'P1', 39.9), depth(240, 'P1', 40)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'yellow', 'open'],
      ['escalated', RULE, 'P1', 'orange', 'open'],
      ['escalated', RULE, 'P1', 'red', 'open'],
    ]);
    const ids = new Set(run.changes.map((c) => c.alert.id));
    expect(ids).toEqual(new Set([alertIdOf(RULE, 'P1', ms(0))]));
    const alert = run.lastAlert(RULE, 'P1')!;
    expect(alert.history.map((h) => [h.at - ms(0), h.action, h.severity, h.value])).toEqual([
      [0, 'opened', 'yellow', 20],
      [120_000, 'escalated', 'orange', 27],
      [240_000, 'escalated', 'red', 40],
    ]);
    expect(alert).toMatchObject({ openedAt: ms(0), updatedAt: ms(240), value: 40, threshold: 40, severity: 'red' });
    expect(run.engine.stats().activeAlerts).toBe(1);
  });

  it('a reading that jumps straight to 45 cm opens red', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 45)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'P1', 'red', 'open']]);
  });

  it('does not de-escalate while the water stays at or above 10 cm; resolves below 10 cm', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 41), depth(60, 'P1', 30), depth(120, 'P1', 12), depth(180, 'P1', 10)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'P1', 'red', 'open']]);
    run.stream([depth(240, 'P1', 9.9, {}, { id: 'wl-down' })]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'red', 'open'],
      ['resolved', RULE, 'P1', 'red', 'resolved'],
    ]);
    const resolved = run.lastAlert(RULE, 'P1')!;
    // The value follows the readings (the last is the one that resolved it); the peak stays.
    expect(resolved).toMatchObject({ resolvedAt: ms(240), updatedAt: ms(240), value: 9.9 });
    expect(toPublicAlert(resolved, 'Asia/Shanghai')).toMatchObject({ peakValue: 41, peakAt: '2026-07-21T08:00:00+08:00' });
    expect(resolved.history.at(-1)).toEqual({ at: ms(240), action: 'resolved', severity: 'red', by: 'event:wl-down', value: 9.9 });
    expect(run.engine.stats().activeAlerts).toBe(0);
  });

  it('a new rise after resolution opens a new alert with a new id', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 20), depth(60, 'P1', 2), depth(120, 'P1', 16)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'yellow', 'open'],
      ['resolved', RULE, 'P1', 'yellow', 'resolved'],
      ['opened', RULE, 'P1', 'yellow', 'open'],
    ]);
    expect(run.changes[2]!.alert.id).toBe(alertIdOf(RULE, 'P1', ms(120)));
    expect(run.changes[2]!.alert.id).not.toBe(run.changes[0]!.alert.id);
  });

  it('a straggler (older than the point’s newest reading) never moves the alert back', () => {
    const run = new EngineRun();
    run.stream([depth(100, 'P1', 45), depth(90, 'P1', 5), depth(80, 'P1', 20)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'P1', 'red', 'open']]);
    run.stream([depth(160, 'P1', 3), depth(150, 'P1', 50)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'red', 'open'],
      ['resolved', RULE, 'P1', 'red', 'resolved'],
    ]);
  });

  it('keeps one alert per point', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 20), depth(0, 'P2', 30), depth(60, 'P1', 28)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'yellow', 'open'],
      ['opened', RULE, 'P2', 'orange', 'open'],
      ['escalated', RULE, 'P1', 'orange', 'open'],
    ]);
    expect(run.engine.stats().activeAlerts).toBe(2);
  });

  it('takes the district from an earlier reading when this one leaves it out', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 1, { district: HLG }), depth(60, 'P1', 20)]);
    expect(run.lastAlert(RULE, 'P1')!.district).toBe(HLG);
  });

  it('follows configured thresholds', () => {
    const d = engineConfig().rules;
    const run = new EngineRun(engineConfig({ rules: { ...d, waterlogging: { yellowCm: 20, orangeCm: 30, redCm: 50, clearBelowCm: 5 } } }));
    run.stream([depth(0, 'P1', 19), depth(60, 'P1', 20), depth(120, 'P1', 45), depth(180, 'P1', 6), depth(240, 'P1', 4)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'yellow', 'open'],
      ['escalated', RULE, 'P1', 'orange', 'open'],
      ['resolved', RULE, 'P1', 'orange', 'resolved'],
    ]);
  });
});
