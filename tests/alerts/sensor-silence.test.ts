/** Sensor silence: a waterlogging point with no reading for 10 minutes (live mode only) → blue. */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { SENSOR_SILENCE_RULE } from '../../src/alerts/sensor-silence.js';
import { core, HLG, ms } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const RULE = SENSOR_SILENCE_RULE;
const W = 1_900_000_000_000; // wall clock

describe('sensor_silence', () => {
  it('live: raised when the watermark passes the last reading + 10 min, with no further input', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live' }));
    run.now = W;
    run.feed(core.depth(0, 'P1', 3, { district: HLG, name: '北郊农场桥' }), 'http', true);
    // Quiet input: the watermark follows the wall clock from the last reading − lateness.
    run.tick(W + 659_999);
    expect(run.changes).toEqual([]);
    run.tick(W + 660_000);
    expect(run.engine.watermark).toBe(ms(600));
    expect(run.changes).toHaveLength(1);
    expect(run.changes[0]!.alert).toMatchObject({
      id: alertIdOf(RULE, 'P1', ms(600)),
      rule: RULE,
      category: 'sensor',
      severity: 'blue',
      district: HLG,
      threshold: 600,
      openedAt: ms(600),
      title: '传感器离线：北郊农场桥（P1） 10 分钟无数据',
      history: [{ at: ms(600), action: 'opened', severity: 'blue', by: 'watermark', value: null }],
    });
  });

  it('live: the next reading resolves it; readings in time keep it from opening', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live' }));
    run.now = W;
    run.feed(core.depth(0, 'P1', 3), 'http', true);
    run.now = W + 540_000;
    run.feed(core.depth(540, 'P1', 3), 'http', true);
    run.tick(W + 540_000 + 659_999);
    expect(run.changes).toEqual([]);
    run.tick(W + 540_000 + 660_000);
    expect(run.transitions()).toEqual([['opened', RULE, 'P1', 'blue', 'open']]);
    run.now = W + 2_000_000;
    run.feed(core.depth(2000, 'P1', 3, {}, { id: 'back' }), 'http', true);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'P1', 'blue', 'open'],
      ['resolved', RULE, 'P1', 'blue', 'resolved'],
    ]);
    expect(run.lastAlert(RULE, 'P1')!.history.at(-1)).toMatchObject({ at: ms(2000), by: 'event:back' });
  });

  it('replay: a recorded gap is history, not a failing sensor', () => {
    const run = new EngineRun();
    run.stream([core.depth(0, 'P1', 3), core.depth(3600, 'P1', 3)]);
    run.watermarkTo(7200);
    expect(run.changes).toEqual([]);
  });
});
