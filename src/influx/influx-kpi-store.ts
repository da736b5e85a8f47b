/**
 * InfluxDB as the KPI store (DESIGN §4). Writes: the embedded store's outbox of touched
 * partials, as points with their absolute values — measurement = partial family, tags =
 * group tags + `writer`, fields = partial fields, timestamp = bucket start — batched and
 * gzipped. Rewriting a point overwrites it, so a retry or a re-processed batch never
 * double counts. A failed write leaves the outbox as it was; the caller retries, so
 * nothing is dropped and memory stays bounded (the queue is on disk).
 *
 * Reads: Flux, summing partials across writers (and across time or tags, as the query
 * needs) inside InfluxDB, then the same pure query code as the embedded store.
 * Works with InfluxDB 2.x (org, bucket, token) and 1.8+ (bucket "db/rp" over the
 * v2-compatible API).
 */
import { InfluxDB, Point, setLogger, type QueryApi, type WriteApi } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { FAMILY_TAGS } from '../kpis/catalogue.js';
import { entityGrouping, GAUGE_FAMILIES, ROLLUP_SERIES_FIELD, rollupFor, SERIES_FIELD_PREFIX, splitEntityGroups, type SeriesAggregate, type StoredSeriesAggregate } from '../kpis/gauge-rollups.js';
import type { GaugeKpi } from '../kpis/kpi-definition.js';
import { BUCKET_MS, mergeFields, type Fields } from '../kpis/partials.js';
import { GAUGE_MEAN_SCALE, type GaugeParts, type PartialRow } from '../kpis/query.js';
import type { KpiSink } from '../pipeline/pipeline.js';
import type { KpiReader, PartialGrouping } from '../ports.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';

export interface InfluxOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  writer: string;
  logger: Logger;
  /** Points per write request. */
  batchSize?: number;
  timeoutMs?: number;
  /** How long a query may take (default: timeoutMs). */
  queryTimeoutMs?: number;
}

export const WRITER_TAG = 'writer';

export class InfluxKpiStore implements KpiSink, KpiReader {
  private readonly influx: InfluxDB;
  private readonly queryApi: QueryApi;
  private readonly batchSize: number;
  private readonly log: Logger;
  /** Rollup families whose fallback to minute partials was already logged as a warning. */
  private readonly fallbackWarned = new Set<string>();
  /** Called after each flush attempt with the outbox size, for the backlog metric. */
  onBacklog: (size: number) => void = () => undefined;

  constructor(
    private readonly options: InfluxOptions,
    private readonly store: EmbeddedStore,
  ) {
    this.influx = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? 10_000 });
    const queries = options.queryTimeoutMs === undefined ? this.influx : new InfluxDB({ url: options.url, token: options.token, timeout: options.queryTimeoutMs });
    this.queryApi = queries.getQueryApi(options.org);
    this.batchSize = options.batchSize ?? 5000;
    this.log = options.logger.child({ component: 'influx' });
    // The client logs to the console by default; its failures surface as rejected
    // writes that the pipeline logs and retries, so its own lines go to debug.
    const log = this.log;
    setLogger({
      error: (message, err) => log.debug({ err }, message),
      warn: (message, err) => log.debug({ err }, message),
    });
  }

  private writeApi(): WriteApi {
    // Our own outbox is the retry buffer: the client's retries are off so that a failed
    // write surfaces at once and the outbox, not client memory, holds what is pending.
    return this.influx.getWriteApi(this.options.org, this.options.bucket, 'ms', {
      batchSize: this.batchSize + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: this.batchSize * 2,
      gzipThreshold: 1024,
      defaultTags: { [WRITER_TAG]: this.options.writer },
    });
  }

  async flush(): Promise<void> {
    for (;;) {
      const batch = this.store.outboxBatch(this.batchSize);
      if (batch.length === 0) {
        this.onBacklog(0);
        return;
      }
      const api = this.writeApi();
      for (const p of batch) api.writePoint(pointOf(p));
      try {
        await api.close();
      } catch (err) {
        this.onBacklog(this.store.outboxSize());
        throw new Error(`InfluxDB write to ${this.options.url} failed: ${(err as Error).message}`, { cause: err });
      }
      this.store.outboxDone(batch);
      this.onBacklog(this.store.outboxSize());
    }
  }

  /**
   * Cluster mode (docs/cluster.md §3): absolute partials of one task, written with the
   * task as `writer`, so a re-read by the task's next owner overwrites the same points.
   */
  async writeAbsolute(points: ReadonlyArray<{ family: string; bucket: number; tags: Readonly<Record<string, string>>; fields: Readonly<Record<string, number>> }>, writer: string): Promise<void> {
    for (let i = 0; i < points.length; i += this.batchSize) {
      const api = this.influx.getWriteApi(this.options.org, this.options.bucket, 'ms', {
        batchSize: this.batchSize + 1,
        flushInterval: 0,
        maxRetries: 0,
        maxBufferLines: this.batchSize * 2,
        gzipThreshold: 1024,
        defaultTags: { [WRITER_TAG]: writer },
      });
      for (const p of points.slice(i, i + this.batchSize)) api.writePoint(pointOf(p));
      try {
        await api.close();
      } catch (err) {
        throw new Error(`InfluxDB write to ${this.options.url} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  async partialRows(family: string, from: number, to: number, grouping: PartialGrouping): Promise<PartialRow[]> {
    const tags = FAMILY_TAGS.get(family) ?? [];
    if (grouping === 'tags') return this.tagRows(family, from, to, tags);
    // Per-minute answers read the points as stored and merge them here: Flux in InfluxDB
    // 1.8 makes a table per window (aggregateWindow) or per _time (group), which is
    // orders of magnitude slower than reading the points.
    const keep = grouping === 'bucket' ? [] : tags;
    const flux = `${rangeFlux(this.options.bucket, family, from, to)}
  |> keep(columns: [${['_time', '_field', '_value', ...keep].map(fluxString).join(', ')}])`;
    return this.minuteRows(family, flux, keep);
  }

  /** Minute rows of a Flux answer of points, merged per (bucket, tags) across writers. */
  private async minuteRows(family: string, flux: string, keep: readonly string[]): Promise<Array<PartialRow & { fields: Fields }>> {
    const out = new Map<string, PartialRow & { fields: Fields }>();
    for (const r of await this.queryApi.collectRows<Record<string, unknown>>(flux)) {
      const field = String(r._field);
      if (field.startsWith(SERIES_FIELD_PREFIX)) continue;
      const bucket = Date.parse(String(r._time));
      const rowTags = tagsOfRow(r, keep);
      const key = `${bucket}|${JSON.stringify(rowTags)}`;
      let row = out.get(key);
      if (row === undefined) out.set(key, (row = { family, bucket, tags: rowTags, fields: {} }));
      mergeFields(row.fields, { [field]: Number(r._value) });
    }
    return [...out.values()].sort((a, b) => a.bucket - b.bucket);
  }

  /**
   * A gauge from rollups and per-series aggregates (kpis/gauge-rollups.ts) instead of every
   * minute of every series: ungrouped and by a rollup tag, the rollup's minutes (merged
   * across writers here); by the entity tag, count/sum/max/last of the KPI's series field
   * per series and writer inside InfluxDB, and the minute partials only of an entity that
   * several series or writers wrote. A rollup that does not account for every minute
   * partial (data written before rollups, or a write under way) is not used: the minute
   * partials are read instead, slower but never wrong.
   */
  async gaugeParts(def: GaugeKpi, from: number, to: number, groupBy: readonly string[]): Promise<GaugeParts> {
    const entity = entityGrouping(def, groupBy);
    const rollup = rollupFor(def, groupBy);
    if (entity !== undefined) {
      const [overall, series] = await Promise.all([this.rollupOrMinutes(def, from, to, []), this.entityParts(def, from, to, groupBy, entity)]);
      return { overall, ...series };
    }
    const rows = rollup !== undefined ? await this.rollupOrMinutes(def, from, to, groupBy) : await this.partialRows(def.family, from, to, 'bucket-and-tags');
    return { overall: rows, summarised: [], rows };
  }

  private async rollupOrMinutes(def: GaugeKpi, from: number, to: number, groupBy: readonly string[]): Promise<PartialRow[]> {
    const family = rollupFor(def, groupBy)!;
    const g = GAUGE_FAMILIES.get(def.family)!;
    // Three queries in parallel: the KPI's fields of the rollup's minutes, and two pushed-down
    // sums that prove the rollup complete (its rollup_series against the minute partials).
    const presence = `${rangeFlux(this.options.bucket, def.family, from, to)}
  |> filter(fn: (r) => r._field == ${fluxString(g.presenceField)})
  |> count()
  |> group()
  |> sum()`;
    const rollupRange = rangeFlux(this.options.bucket, family, from, to);
    const series = `${rollupRange}
  |> filter(fn: (r) => r._field == ${fluxString(ROLLUP_SERIES_FIELD)})
  |> sum()
  |> group()
  |> sum()`;
    const flux = `${rollupRange}
  |> filter(fn: (r) => ${def.minuteFields.map((f) => `r._field == ${fluxString(f)}`).join(' or ')})
  |> keep(columns: [${['_time', '_field', '_value', ...groupBy].map(fluxString).join(', ')}])`;
    const total = async (q: string) => (await this.queryApi.collectRows<Record<string, unknown>>(q)).reduce((n, r) => n + Number(r._value), 0);
    const [rows, partials, accounted] = await Promise.all([this.minuteRows(def.family, flux, groupBy), total(presence), total(series)]);
    if (accounted === partials) return rows;
    // Once per family: data written before rollups falls back on every query over it.
    const level = this.fallbackWarned.has(family) ? 'debug' : 'warn';
    this.fallbackWarned.add(family);
    this.log[level]({ family, from, to, partials, accounted }, 'gauge rollups do not account for every minute partial; reading the minute partials');
    return this.partialRows(def.family, from, to, groupBy.length === 0 ? 'bucket' : 'bucket-and-tags');
  }

  private async entityParts(def: GaugeKpi, from: number, to: number, groupBy: readonly string[], entity: { entityTag: string; field: string; fixedField: string | null }): Promise<Omit<GaugeParts, 'overall'>> {
    const g = GAUGE_FAMILIES.get(def.family)!;
    const tags = FAMILY_TAGS.get(def.family) ?? [];
    const base = rangeFlux(this.options.bucket, def.family, from, to);
    const field = (name: string) => `${base}\n  |> filter(fn: (r) => r._field == ${fluxString(name)})`;
    // Aggregates InfluxDB computes per series in its storage engine (pushed down, one query
    // each, in parallel): a hundred times faster than reading the points. The mean's sum
    // is of integers (millionths, kpis/query.ts fixedPoint), exact in the order the engine
    // adds them. A derived field (series_*) is counted against the minute partials, and a
    // fixed-point field against its value, to find points written before they existed.
    const derived = entity.field.startsWith(SERIES_FIELD_PREFIX);
    type Entry = StoredSeriesAggregate & { aggregate: SeriesAggregate; presence: number; fixed: number };
    const scale = entity.fixedField === null ? GAUGE_MEAN_SCALE : 1;
    // Each pushed-down aggregate and where its per-series answer goes.
    const aggregates: Array<{ flux: string; apply: (s: Entry, v: number) => void }> = [
      { flux: `${field(entity.field)} |> count()`, apply: (s, v) => (s.aggregate.samples = v) },
      { flux: `${field(entity.field)} |> max()`, apply: (s, v) => (s.aggregate.max = v) },
      { flux: `${field(entity.field)} |> last()`, apply: (s, v) => (s.aggregate.last = v) },
      // An integer value's millionths are exact multiples: Σ value × 10^6 = Σ fixedPoint(value).
      { flux: `${field(entity.fixedField ?? entity.field)} |> sum()`, apply: (s, v) => (s.aggregate.fixedSum = v * scale) },
    ];
    if (derived) aggregates.push({ flux: `${field(g.presenceField)} |> count()`, apply: (s, v) => (s.presence = v) });
    if (entity.fixedField !== null) aggregates.push({ flux: `${field(entity.fixedField)} |> count()`, apply: (s, v) => (s.fixed = v) });
    const slim = `|> keep(columns: [${['_value', ...tags, WRITER_TAG].map(fluxString).join(', ')}])`;
    const answers = await Promise.all(aggregates.map(({ flux }) => this.queryApi.collectRows<Record<string, unknown>>(`${flux}\n  ${slim}`)));
    // Per (series, writer): the series' tags and its aggregates.
    const series = new Map<string, Entry>();
    aggregates.forEach(({ apply }, i) => {
      for (const r of answers[i]!) {
        const rowTags = tagsOfRow(r, tags);
        const writer = String(r[WRITER_TAG]);
        const key = `${JSON.stringify(rowTags)}|${writer}`;
        let s = series.get(key);
        if (s === undefined) series.set(key, (s = { tags: rowTags, writer, aggregate: { samples: 0, fixedSum: 0, max: null, last: null }, presence: 0, fixed: 0 }));
        apply(s, Number(r._value));
      }
    });
    // Points written before the series_* fields lack them: such a series is read per minute.
    for (const s of series.values()) {
      s.complete = (entity.fixedField === null || s.fixed === s.aggregate.samples) && (!derived || s.presence === s.aggregate.samples);
    }
    const { summarised, entities: ids } = splitEntityGroups([...series.values()], groupBy, entity.entityTag);
    const rows: PartialRow[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const match = ids
        .slice(i, i + 100)
        .map((id) => `r[${fluxString(entity.entityTag)}] == ${fluxString(id)}`)
        .join(' or ');
      const minutes = `${base}
  |> filter(fn: (r) => ${match})
  |> keep(columns: [${['_time', '_field', '_value', ...tags].map(fluxString).join(', ')}])`;
      rows.push(...(await this.minuteRows(def.family, minutes, tags)));
    }
    if (ids.length > 0) this.log.debug({ family: def.family, entities: ids.length }, 'entities written by several series or writers: read per minute');
    return { summarised, rows };
  }

  /** Partials summed over the range per group tags, inside InfluxDB (one table per group). */
  private async tagRows(family: string, from: number, to: number, tags: readonly string[]): Promise<PartialRow[]> {
    const flux = buildPartialsFlux(this.options.bucket, family, from, to, [...tags, '_field']);
    const out = new Map<string, PartialRow & { fields: Fields }>();
    for (const r of await this.queryApi.collectRows<Record<string, unknown>>(flux)) {
      const rowTags = tagsOfRow(r, tags);
      const key = JSON.stringify(rowTags);
      let row = out.get(key);
      if (row === undefined) out.set(key, (row = { family, bucket: from, tags: rowTags, fields: {} }));
      row.fields[String(r._field)] = Number(r._value);
    }
    return [...out.values()];
  }

  /** null when InfluxDB answers its health endpoint, else the problem. */
  async problem(): Promise<string | null> {
    try {
      const res = await fetch(new URL('/health', this.options.url), { signal: AbortSignal.timeout(3000) });
      return res.ok ? null : `InfluxDB /health answered ${res.status}`;
    } catch (err) {
      return `InfluxDB unreachable at ${this.options.url}: ${(err as Error).message}`;
    }
  }
}

/** A partial as a point; a gauge's per-series fields (kpis/gauge-rollups.ts) beside its own. */
function pointOf(p: { family: string; bucket: number; tags: Readonly<Record<string, string>>; fields: Readonly<Record<string, number>> }): Point {
  const point = new Point(p.family).timestamp(new Date(p.bucket));
  for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) point.floatField(k, v);
  const derived = GAUGE_FAMILIES.get(p.family)?.seriesFields?.(p.fields);
  if (derived !== undefined) for (const [k, v] of Object.entries(derived)) point.floatField(k, v);
  return point;
}

function fluxString(s: string): string {
  return JSON.stringify(s);
}

function tagsOfRow(r: Record<string, unknown>, tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) if (typeof r[t] === 'string' && r[t] !== '') out[t] = r[t] as string;
  return out;
}

/**
 * Points of a family with `_time` in [from, to). Buckets are whole minutes, so that is the
 * minutes up to the last bucket before `to`; the range stops 1 ms after it, which gives the
 * same points whether the stop is exclusive (2.x) or, as in InfluxDB 1.8, inclusive — and,
 * unlike a filter on `_time`, lets InfluxDB push the aggregates down to its storage engine
 * (a count over a day of 1,000 points: 10 s with the filter, 0.13 s without).
 */
function rangeFlux(bucket: string, family: string, from: number, to: number): string {
  const lastBucket = Math.floor((to - 1) / BUCKET_MS) * BUCKET_MS;
  let start = Math.ceil(from / BUCKET_MS) * BUCKET_MS;
  // No whole minute in the range: a millisecond that holds no bucket.
  if (start > lastBucket) start = lastBucket + 1;
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: ${new Date(start).toISOString()}, stop: ${new Date(Math.max(start, lastBucket) + 1).toISOString()})
  |> filter(fn: (r) => r._measurement == ${fluxString(family)})`;
}

/**
 * Sums a family's partials over the group columns, except `max_*` fields, which take the
 * maximum — the same merge rule as kpis/partials.ts.
 */
export function buildPartialsFlux(bucket: string, family: string, from: number, to: number, columns: readonly string[]): string {
  const base = rangeFlux(bucket, family, from, to);
  const group = `group(columns: [${columns.map(fluxString).join(', ')}])`;
  return `sums = ${base}
  |> filter(fn: (r) => r._field !~ /^max_/)
  |> ${group}
  |> sum()
maxes = ${base}
  |> filter(fn: (r) => r._field =~ /^max_/)
  |> ${group}
  |> max()
union(tables: [sums, maxes])`;
}
