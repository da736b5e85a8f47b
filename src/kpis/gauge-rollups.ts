/**
 * Per-minute rollups of the gauges, and what a store needs to answer a gauge without reading
 * every minute of every entity (README, Performance, "KPI queries from InfluxDB").
 *
 * A gauge answers per sampled minute: the minute's partials merged over the group, then
 * last / max / mean over the minutes. A day of 1,000 waterlogging points is 1.44 million
 * minute partials, so a reader that merges them per minute cannot answer in time. Two
 * things spare it:
 *
 * - **Rollups.** Beside an entity gauge's minute partials, each writer (an instance, or a
 *   task in cluster mode) writes the same minute merged over its series: once overall
 *   (family `<family>_all`, no tags) and once per rollup tag (`<family>_by_<tag>`, that
 *   tag) — the fields the KPIs read — with `rollup_series` counting the series merged. They are ordinary partials
 *   (keyed by family, bucket, tags, writer; a rewrite overwrites), so a reader merges
 *   them across writers per minute by the same rule as any partial. The fields the
 *   gauges' minute values read are integer counts and maxima, whose merge is exact in any
 *   order, so rollups merged per minute equal the series merged per minute, bit for bit.
 *   `rollup_series` lets a reader prove the rollups complete: over any range, the sum of
 *   `rollup_series` of one rollup family equals the number of minute partials of the
 *   family (each carries `presenceField`); data written before rollups existed fails the
 *   check, and the reader falls back to the minute partials.
 * - **One series, one writer.** Grouped by the entity tag (`point`, `lot`), a group is
 *   almost always one series of one writer, whose minute value is one stored field
 *   (`entitySeriesField` of the KPI; parking's ratio is written beside its partials as
 *   `series_occupancy_rate`), and its mean adds one more (`entitySeriesFixedField`, the
 *   value in millionths; none for integer values). Then count, max and last of the one
 *   and the sum of the other are the gauge's samples, max, last and mean — aggregates a
 *   store computes per series, in whatever order it adds (kpis/query.ts, fixedPoint).
 *
 * Pure: no I/O; the gauges call MinuteRollup while sampling, stores call the rest.
 */
import type { KpiDefinition } from './kpi-definition.js';
import { fixedPoint, gaugeMean, type GaugeSummary } from './query.js';
import { mergeField, UNKNOWN, type Fields, type PartialBuffer, type Tags } from './partials.js';

export const ROLLUP_SERIES_FIELD = 'rollup_series';
/** Fields only a store's per-series aggregates read; never merged into partials. */
export const SERIES_FIELD_PREFIX = 'series_';

export interface GaugeFamily {
  family: string;
  /** The tag naming one entity (a group of one series), or null when every series is a group. */
  entityTag: string | null;
  /** Tags with a rollup of their own; the overall rollup is always written. */
  rollupTags: readonly string[];
  /** A field every minute partial of the family carries. */
  presenceField: string;
  /**
   * The fields rolled up: those the KPIs' minute values read, integer counts and maxima,
   * whose merge is exact in any order (waterlogging's depth_cm, a sum of decimals, is not
   * rolled up: two writers' rollups would merge into other last bits than one writer's).
   */
  rollupFields: readonly string[];
  /** Fields computed from a minute partial for per-series aggregates (see SERIES_FIELD_PREFIX). */
  seriesFields?: (fields: Readonly<Fields>) => Fields | undefined;
}

export const GAUGE_FAMILIES: ReadonlyMap<string, GaugeFamily> = new Map(
  (
    [
      {
        family: 'waterlogging',
        entityTag: 'point',
        rollupTags: ['district'],
        presenceField: 'points',
        rollupFields: ['max_depth_cm', 'over_threshold', 'points'],
        seriesFields: (f) => (f.max_depth_cm === undefined ? undefined : { series_max_depth_cm_fixed: fixedPoint(f.max_depth_cm) }),
      },
      {
        family: 'parking',
        entityTag: 'lot',
        rollupTags: ['district'],
        presenceField: 'capacity',
        rollupFields: ['occupied', 'capacity'],
        // The lot's own minute value (parking_occupancy_rate.minuteValue for one lot).
        seriesFields: (f) => {
          if (f.capacity === undefined || f.capacity === 0) return undefined;
          const rate = (f.occupied ?? 0) / f.capacity;
          return { series_occupancy_rate: rate, series_occupancy_rate_fixed: fixedPoint(rate) };
        },
      },
      { family: 'utility_alarms', entityTag: null, rollupTags: ['network', 'district'], presenceField: 'active', rollupFields: ['active'] },
    ] satisfies GaugeFamily[]
  ).map((g) => [g.family, g]),
);

export function rollupFamily(family: string, tag: string | null): string {
  return tag === null ? `${family}_all` : `${family}_by_${tag}`;
}

/** Every rollup family with its one tag (null: overall). */
export function rollupFamilies(g: GaugeFamily): Array<{ family: string; tag: string | null }> {
  return [null, ...g.rollupTags].map((tag) => ({ family: rollupFamily(g.family, tag), tag }));
}

/**
 * The rollup a store reads for a gauge grouped by `groupBy`: overall for none, a tag's own
 * for that tag alone; undefined when there is none (several tags, or the entity tag).
 */
export function rollupFor(def: KpiDefinition, groupBy: readonly string[]): string | undefined {
  const g = GAUGE_FAMILIES.get(def.family);
  if (def.kind !== 'gauge' || g === undefined) return undefined;
  if (groupBy.length === 0) return rollupFamily(g.family, null);
  if (groupBy.length === 1 && g.rollupTags.includes(groupBy[0]!)) return rollupFamily(g.family, groupBy[0]!);
  return undefined;
}

/** The entity tag when `groupBy` holds it and the KPI has a per-series field; else undefined. */
export function entityGrouping(def: KpiDefinition, groupBy: readonly string[]): { entityTag: string; field: string; fixedField: string | null } | undefined {
  const g = GAUGE_FAMILIES.get(def.family);
  if (def.kind !== 'gauge' || g === undefined || g.entityTag === null || def.entitySeriesField === undefined) return undefined;
  return groupBy.includes(g.entityTag) ? { entityTag: g.entityTag, field: def.entitySeriesField, fixedField: def.entitySeriesFixedField ?? null } : undefined;
}

/**
 * One minute's rollups of one writer's gauge: every series sampled in the minute is
 * added, then `flushTo` adds the merged partials to the step's buffer.
 */
export class MinuteRollup {
  private overall: Fields | undefined;
  private readonly byTag: Array<Map<string, Fields>>;

  constructor(private readonly g: GaugeFamily) {
    this.byTag = g.rollupTags.map(() => new Map());
  }

  add(tags: Tags, fields: Readonly<Fields>): void {
    this.overall = merged(this.overall, fields, this.g.rollupFields);
    for (let i = 0; i < this.g.rollupTags.length; i++) {
      const m = this.byTag[i]!;
      const v = tags[this.g.rollupTags[i]!] ?? UNKNOWN;
      m.set(v, merged(m.get(v), fields, this.g.rollupFields));
    }
  }

  flushTo(partials: PartialBuffer, bucket: number): void {
    if (this.overall === undefined) return;
    partials.add(rollupFamily(this.g.family, null), bucket, {}, this.overall);
    for (let i = 0; i < this.g.rollupTags.length; i++) {
      const tag = this.g.rollupTags[i]!;
      const m = this.byTag[i]!;
      for (const [v, f] of m) partials.add(rollupFamily(this.g.family, tag), bucket, { [tag]: v }, f);
      m.clear();
    }
    this.overall = undefined;
  }
}

function merged(into: Fields | undefined, fields: Readonly<Fields>, names: readonly string[]): Fields {
  const out = into ?? { [ROLLUP_SERIES_FIELD]: 0 };
  for (const name of names) {
    const v = fields[name];
    if (v === undefined) continue;
    const prev = out[name];
    out[name] = prev === undefined ? v : mergeField(name, prev, v);
  }
  out[ROLLUP_SERIES_FIELD]! += 1;
  return out;
}

/** Per-series aggregates of a gauge's minute value over a range, as a store computes them. */
export interface SeriesAggregate {
  samples: number;
  /** Σ fixedPoint(value) (kpis/query.ts), exact in any order. */
  fixedSum: number;
  max: number | null;
  last: number | null;
}

/** A store's aggregates of one series as one writer wrote it. */
export interface StoredSeriesAggregate {
  tags: Readonly<Record<string, string>>;
  writer: string;
  aggregate: SeriesAggregate;
  /**
   * false when the store lacks a `series_*` field for some of the series' minutes (points
   * written before those fields existed): its entity is then read per minute.
   */
  complete?: boolean;
}

/**
 * Which groups the aggregates answer: a group (by `groupBy`, which holds the entity tag)
 * that one series of one writer wrote is its aggregate; a group that several wrote (an
 * entity that changed district, a restart under another instance id) must be merged per
 * minute first, so its entity's minute partials are read (`entities`, sorted), and every
 * group of that entity comes from them.
 */
export function splitEntityGroups(
  series: readonly StoredSeriesAggregate[],
  groupBy: readonly string[],
  entityTag: string,
): { summarised: Array<{ tags: Readonly<Record<string, string>>; aggregate: SeriesAggregate }>; entities: string[] } {
  const perGroup = new Map<string, number>();
  const keyOf = (s: StoredSeriesAggregate) => JSON.stringify(groupBy.map((t) => s.tags[t] ?? UNKNOWN));
  for (const s of series) perGroup.set(keyOf(s), (perGroup.get(keyOf(s)) ?? 0) + 1);
  const merged = new Set<string>();
  for (const s of series) if (perGroup.get(keyOf(s))! > 1 || s.complete === false) merged.add(s.tags[entityTag] ?? UNKNOWN);
  const summarised = series.filter((s) => !merged.has(s.tags[entityTag] ?? UNKNOWN)).map((s) => ({ tags: s.tags, aggregate: s.aggregate }));
  return { summarised, entities: [...merged].sort() };
}

/**
 * A group of one series (one writer) from its aggregates: what summariseGauge gives over
 * its minutes.
 */
export function summaryOfAggregate(a: SeriesAggregate): GaugeSummary {
  if (a.samples === 0) return { value: null, last: null, max: null, mean: null, samples: 0 };
  return { value: a.last, last: a.last, max: a.max, mean: gaugeMean(a.fixedSum, a.samples), samples: a.samples };
}
