/**
 * `parking_occupancy_rate`: Σ occupied ÷ Σ capacity over the lots' latest readings,
 * sampled at the end of each minute of event time. Occupancy above capacity (cars on
 * aisles) is counted as reported, so the rate can exceed 1.
 *
 * Partial family `parking`, tags {district, lot}, fields: occupied, capacity.
 */
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import type { GaugeKpi } from './kpi-definition.js';
import { LatestReadings, type ReadingsSnapshot } from './latest-readings.js';
import { entityGauge } from './entity-gauge.js';
import { GAUGE_FAMILIES, MinuteRollup } from './gauge-rollups.js';

export const PARKING_FAMILY = 'parking';

export const parkingOccupancyRate: GaugeKpi = {
  name: 'parking_occupancy_rate',
  title: '停车场占用率',
  titleEn: 'Parking occupancy rate',
  unit: 'ratio',
  target: 0.85,
  targetDirection: 'atMost',
  targetBasis: '85% 占用率：高于此值驾驶者开始绕行寻找车位（Shoup《免费停车的高昂代价》的常用口径）；行动计划只规定新增泊位，不规定占用率。',
  targetBasisEn: "85 % occupancy: above it drivers start cruising for a space (Shoup's rule, The High Cost of Free Parking); the action plan sets new spaces, not occupancy.",
  kind: 'gauge',
  family: PARKING_FAMILY,
  groupTags: ['district', 'lot'],
  minuteValue: (f) => (f.capacity === undefined || f.capacity === 0 ? null : (f.occupied ?? 0) / f.capacity),
  minuteFields: ['occupied', 'capacity'],
  // Written beside a lot's partials for per-series aggregates (GAUGE_FAMILIES' seriesFields).
  entitySeriesField: 'series_occupancy_rate',
  entitySeriesFixedField: 'series_occupancy_rate_fixed',
  description: '各停车场最新读数的占用车位之和除以泊位之和，每分钟末采样。',
  descriptionEn: "Sum of occupied spaces over sum of capacity across the lots' latest readings, sampled at the end of each minute.",
};

interface LotMeta {
  district?: string;
  name?: string;
}

export class ParkingGauge {
  private readonly readings = new LatestReadings<[occupied: number, capacity: number], LotMeta>((a, b) => a.district === b.district && a.name === b.name);
  private readonly rollup = new MinuteRollup(GAUGE_FAMILIES.get(PARKING_FAMILY)!);

  get size(): number {
    return this.readings.entities.size;
  }

  onOccupancy(e: EventOf<'huitian.parking.occupancy'>): void {
    const d = e.data;
    this.readings.add(d.lotId, e.time, [d.occupied, d.capacity], { district: d.district, name: d.name }, e.id, e.source);
  }

  sampleMinute(ctx: StepContext, boundary: number): void {
    const bucket = boundary - 60_000;
    this.readings.sample(boundary, (lotId, entity) => {
      const [occupied, capacity] = entity.current!.value;
      const state = entityGauge(entity, PARKING_FAMILY, 'lot', lotId);
      // A lot that did not report this minute repeats the last minute's fields.
      let fields = state.fields;
      if (fields === undefined || fields.occupied !== occupied || fields.capacity !== capacity) {
        fields = { occupied, capacity };
        state.fields = fields;
      }
      ctx.partials.addSample(state.series, bucket, fields);
      this.rollup.add(state.series.tags, fields);
    });
    this.rollup.flushTo(ctx.partials, bucket);
  }

  snapshot(): ReadingsSnapshot<[number, number], LotMeta> {
    return this.readings.snapshot();
  }

  restore(s: ReadingsSnapshot<[number, number], LotMeta>): void {
    this.readings.restore(s);
  }
}
