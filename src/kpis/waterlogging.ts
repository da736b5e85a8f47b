/**
 * Waterlogging gauges, sampled per minute of event time:
 * - `waterlogging_points_over_threshold`: points whose latest depth is ≥ 15 cm (the
 *   yellow warning level, configurable with the rule);
 * - `waterlogging_max_depth_cm`: the deepest water at any point during the minute,
 *   including depth carried in from before it, so a peak between two samples is kept.
 *
 * Partial family `waterlogging`, tags {district, point}, fields: depth_cm (latest),
 * max_depth_cm, over_threshold (0/1), points (1). Grouping by point gives each point's
 * own series; the peak a point reached is the max of its max_depth_cm.
 */
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import type { GaugeKpi } from './kpi-definition.js';
import { LatestReadings, type ReadingsSnapshot } from './latest-readings.js';
import { entityGauge } from './entity-gauge.js';
import { GAUGE_FAMILIES, MinuteRollup } from './gauge-rollups.js';

export const WATERLOGGING_FAMILY = 'waterlogging';

export const waterloggingPointsOverThreshold: GaugeKpi = {
  name: 'waterlogging_points_over_threshold',
  title: '积水超阈值点位数',
  titleEn: 'Waterlogging points over threshold',
  unit: 'points',
  target: 0,
  targetDirection: 'atMost',
  targetBasis: '积水点治理的目标是不积水：没有监测点达到黄色预警深度（默认 15 厘米）。',
  targetBasisEn: 'Waterlogging points are fixed so that they stay dry: no point at or above the yellow warning depth (15 cm by default).',
  kind: 'gauge',
  family: WATERLOGGING_FAMILY,
  groupTags: ['district', 'point'],
  minuteValue: (f) => (f.points === undefined ? null : (f.over_threshold ?? 0)),
  minuteFields: ['points', 'over_threshold'],
  // A point's every sample carries points = 1 and over_threshold.
  entitySeriesField: 'over_threshold',
  description: '每分钟末最新读数不低于黄色预警阈值（默认 15 厘米）的积水监测点数量。',
  descriptionEn: 'Points whose latest depth at the end of each minute is at or above the yellow threshold (15 cm by default).',
};

export const waterloggingMaxDepth: GaugeKpi = {
  name: 'waterlogging_max_depth_cm',
  title: '最大积水深度',
  titleEn: 'Maximum waterlogging depth',
  unit: 'cm',
  target: 15,
  targetDirection: 'below',
  targetBasis: '最深积水低于黄色预警深度（waterlogging.yellowCm，默认 15 厘米），道路保持通行。',
  targetBasisEn: 'The deepest water stays below the yellow warning depth (waterlogging.yellowCm, 15 cm by default), so roads stay passable.',
  targetOf: (rules) => rules.waterlogging.yellowCm,
  kind: 'gauge',
  family: WATERLOGGING_FAMILY,
  groupTags: ['district', 'point'],
  minuteValue: (f) => (f.max_depth_cm === undefined ? null : f.max_depth_cm),
  minuteFields: ['max_depth_cm'],
  entitySeriesField: 'max_depth_cm',
  entitySeriesFixedField: 'series_max_depth_cm_fixed',
  description: '每分钟内各监测点出现过的最大积水深度（含上一读数延续的深度）。',
  descriptionEn: 'Deepest water seen at any point during each minute, including depth carried in from the previous reading.',
};

interface PointMeta {
  district?: string;
  name?: string;
}

export class WaterloggingGauge {
  private readonly readings = new LatestReadings<number, PointMeta>((a, b) => a.district === b.district && a.name === b.name);
  private readonly rollup = new MinuteRollup(GAUGE_FAMILIES.get(WATERLOGGING_FAMILY)!);

  get size(): number {
    return this.readings.entities.size;
  }

  onReading(e: EventOf<'huitian.waterlogging.reading'>): void {
    const d = e.data;
    this.readings.add(d.pointId, e.time, d.depthCm, { district: d.district, name: d.name }, e.id, e.source);
  }

  /** The district a point last said it is in. */
  districtOf(pointId: string): string | undefined {
    return this.readings.entities.get(pointId)?.newestMeta.district;
  }

  sampleMinute(ctx: StepContext, boundary: number): void {
    const threshold = ctx.rules.waterlogging.yellowCm;
    const bucket = boundary - 60_000;
    this.readings.sample(boundary, (pointId, entity, carriedIn, inMinute) => {
      let max = carriedIn === undefined ? 0 : carriedIn.value;
      for (const r of inMinute) if (r.value > max) max = r.value;
      const latest = entity.current!.value;
      const over = latest >= threshold ? 1 : 0;
      const state = entityGauge(entity, WATERLOGGING_FAMILY, 'point', pointId);
      // Most points report less often than once a minute: their minutes repeat the last one's fields.
      let fields = state.fields;
      if (fields === undefined || fields.depth_cm !== latest || fields.max_depth_cm !== max || fields.over_threshold !== over) {
        fields = { depth_cm: latest, max_depth_cm: max, over_threshold: over, points: 1 };
        state.fields = fields;
      }
      ctx.partials.addSample(state.series, bucket, fields);
      this.rollup.add(state.series.tags, fields);
    });
    this.rollup.flushTo(ctx.partials, bucket);
  }

  snapshot(): ReadingsSnapshot<number, PointMeta> {
    return this.readings.snapshot();
  }

  restore(s: ReadingsSnapshot<number, PointMeta>): void {
    this.readings.restore(s);
  }
}
