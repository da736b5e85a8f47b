/**
 * Waterlogging gauges, sampled per minute of event time once the watermark reaches the
 * minute's end: points over the yellow threshold, and the deepest water in the minute.
 */
import { describe, expect, it } from 'vitest';
import { waterloggingMaxDepth, waterloggingPointsOverThreshold } from '../../src/kpis/waterlogging.js';
import { core, HLG, ms, TTYN } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const { depth } = core;
const OVER = 'waterlogging_points_over_threshold';
const MAX = 'waterlogging_max_depth_cm';

describe('waterlogging gauges', () => {
  it('count points whose latest depth is at or above 15 cm, per minute', () => {
    const run = new EngineRun();
    run.streamSorted([depth(10, 'P1', 15, { district: HLG }), depth(20, 'P2', 14.9, { district: HLG }), depth(30, 'P3', 40, { district: TTYN })]);
    run.watermarkTo(60);
    expect(run.family('waterlogging')).toEqual([
      { minute: 0, tags: { district: HLG, point: 'P1' }, fields: { depth_cm: 15, max_depth_cm: 15, over_threshold: 1, points: 1 } },
      { minute: 0, tags: { district: HLG, point: 'P2' }, fields: { depth_cm: 14.9, max_depth_cm: 14.9, over_threshold: 0, points: 1 } },
      { minute: 0, tags: { district: TTYN, point: 'P3' }, fields: { depth_cm: 40, max_depth_cm: 40, over_threshold: 1, points: 1 } },
    ]);
    expect(run.kpi(OVER)).toMatchObject({ value: 2, last: 2, max: 2, mean: 2, samples: 1 });
    expect(run.kpi(OVER, ['district']).groups).toEqual([
      { key: { district: HLG }, value: 1, last: 1, max: 1, mean: 1, samples: 1 },
      { key: { district: TTYN }, value: 1, last: 1, max: 1, mean: 1, samples: 1 },
    ]);
    expect(run.kpi(MAX)).toMatchObject({ value: 40, last: 40, max: 40 });
  });

  it('samples a minute only when the watermark reaches its end', () => {
    const run = new EngineRun();
    run.stream([depth(10, 'P1', 20)]);
    expect(run.watermarkTo(59.999).partials).toEqual([]);
    // The minute's own partial; its rollups (waterlogging_all, _by_district) beside it.
    const partials = run.watermarkTo(60).partials;
    expect(partials.filter((p) => p.family === 'waterlogging').map((p) => [p.bucket - ms(0), p.fields.depth_cm])).toEqual([[0, 20]]);
    expect(partials.map((p) => p.family).sort()).toEqual(['waterlogging', 'waterlogging_all', 'waterlogging_by_district']);
  });

  it('keeps the peak inside a minute, and carries the latest depth into quiet minutes', () => {
    const run = new EngineRun();
    run.stream([depth(10, 'P1', 10), depth(30, 'P1', 45), depth(50, 'P1', 12)]);
    run.watermarkTo(180);
    expect(run.family('waterlogging')).toEqual([
      { minute: 0, tags: { district: 'unknown', point: 'P1' }, fields: { depth_cm: 12, max_depth_cm: 45, over_threshold: 0, points: 1 } },
      { minute: 1, tags: { district: 'unknown', point: 'P1' }, fields: { depth_cm: 12, max_depth_cm: 12, over_threshold: 0, points: 1 } },
      { minute: 2, tags: { district: 'unknown', point: 'P1' }, fields: { depth_cm: 12, max_depth_cm: 12, over_threshold: 0, points: 1 } },
    ]);
    expect(run.kpi(MAX)).toMatchObject({ value: 12, last: 12, max: 45, mean: 23, samples: 3 });
    expect(run.kpi(OVER)).toMatchObject({ value: 0, max: 0 });
  });

  it('the depth carried in from the previous minute counts toward the minute’s maximum', () => {
    const run = new EngineRun();
    run.stream([depth(50, 'P1', 30), depth(70, 'P1', 5)]);
    run.watermarkTo(120);
    expect(run.family('waterlogging').map((r) => [r.minute, r.fields.max_depth_cm, r.fields.depth_cm])).toEqual([
      [0, 30, 30],
      [1, 30, 5],
    ]);
  });

  it('the deepest point wins when points are merged', () => {
    const run = new EngineRun();
    run.stream([depth(10, 'P1', 22.5, { district: HLG }), depth(20, 'P2', 31, { district: HLG })]);
    run.watermarkTo(60);
    expect(run.kpi(MAX, ['district']).groups).toEqual([{ key: { district: HLG }, value: 31, last: 31, max: 31, mean: 31, samples: 1 }]);
  });

  it('uses the configured yellow level as the threshold', () => {
    const config = engineConfig();
    const run = new EngineRun(engineConfig({ rules: { ...config.rules, waterlogging: { ...config.rules.waterlogging, yellowCm: 25 } } }));
    run.stream([depth(10, 'P1', 20), depth(20, 'P2', 25)]);
    run.watermarkTo(60);
    expect(run.kpi(OVER)).toMatchObject({ value: 1 });
  });

  it('a straggler within the lateness lands in its own minute', () => {
    const run = new EngineRun();
    run.stream([depth(70, 'P1', 8), depth(50, 'P1', 33)]);
    run.watermarkTo(120);
    expect(run.family('waterlogging').map((r) => [r.minute, r.fields.depth_cm, r.fields.max_depth_cm, r.fields.over_threshold])).toEqual([
      [0, 33, 33, 1],
      [1, 8, 33, 0],
    ]);
  });

  it('tags a minute with the district known from readings up to that minute, whatever the arrival order', () => {
    // The district comes from a reading delivered after a newer one that omits it.
    const late = new EngineRun();
    late.stream([depth(100, 'P1', 3), depth(50, 'P1', 2, { district: HLG })]);
    late.watermarkTo(120);
    expect(late.family('waterlogging').map((r) => [r.minute, r.tags.district])).toEqual([
      [0, HLG],
      [1, HLG],
    ]);
    // A point that moves district: minute 0 must not take the district of a reading at 100 s
    // that happened to arrive before the minute was sampled.
    const moved = new EngineRun();
    moved.stream([depth(10, 'P1', 2, { district: HLG }), depth(100, 'P1', 3, { district: TTYN })]);
    moved.watermarkTo(120);
    expect(moved.family('waterlogging').map((r) => [r.minute, r.tags.district])).toEqual([
      [0, HLG],
      [1, TTYN],
    ]);
  });

  it('forgets a point 24 h after its last reading', () => {
    const run = new EngineRun();
    run.stream([depth(0, 'P1', 20)]);
    run.watermarkTo(86_400 + 180);
    const minutes = run.family('waterlogging').map((r) => r.minute);
    expect(minutes[0]).toBe(0);
    // Minute 1439 ends exactly 24 h after the reading; the next one drops the point.
    expect(minutes[minutes.length - 1]).toBe(1439);
    expect(minutes).toHaveLength(1440);
    expect(run.engine.stats().waterloggingPoints).toBe(0);
  });

  it('catalogue entries', () => {
    expect(waterloggingPointsOverThreshold).toMatchObject({ kind: 'gauge', family: 'waterlogging', unit: 'points', groupTags: ['district', 'point'] });
    expect(waterloggingMaxDepth).toMatchObject({ kind: 'gauge', family: 'waterlogging', unit: 'cm' });
    expect(waterloggingPointsOverThreshold.minuteValue({})).toBeNull();
    expect(waterloggingMaxDepth.minuteValue({ points: 1 })).toBeNull();
  });
});
