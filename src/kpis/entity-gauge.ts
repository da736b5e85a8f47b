/**
 * What a per-entity gauge (waterlogging points, parking lots) keeps with an entity between
 * samples: its KPI series, made once, and the fields of its last sampled minute. A gauge
 * samples every entity every minute and most entities report less often than that, so a
 * minute that repeats the last one shares its fields object (the partial buffer never
 * changes fields) and no tags are sorted or joined again.
 */
import type { EntityReadings } from './latest-readings.js';
import { seriesOf, UNKNOWN, type Fields, type Series } from './partials.js';

export interface EntityGauge {
  readonly series: Series;
  fields: Fields | undefined;
}

/** The entity's gauge state for series `{district, [entityTag]: entityId}`; made anew when the district changes. */
export function entityGauge(entity: EntityReadings<unknown, { district?: string }>, family: string, entityTag: string, entityId: string): EntityGauge {
  const district = entity.meta.district ?? UNKNOWN;
  let state = entity.gauge;
  if (state === undefined || state.series.tags.district !== district) {
    state = { series: seriesOf(family, { district, [entityTag]: entityId }), fields: undefined };
    entity.gauge = state;
  }
  return state;
}
