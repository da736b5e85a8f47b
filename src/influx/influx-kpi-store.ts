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
import { mergeFields, type Fields } from '../kpis/partials.js';
import type { PartialRow } from '../kpis/query.js';
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
      for (const p of batch) {
        const point = new Point(p.family).timestamp(new Date(p.bucket));
        for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
        for (const [k, v] of Object.entries(p.fields)) point.floatField(k, v);
        api.writePoint(point);
      }
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
      for (const p of points.slice(i, i + this.batchSize)) {
        const point = new Point(p.family).timestamp(new Date(p.bucket));
        for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
        for (const [k, v] of Object.entries(p.fields)) point.floatField(k, v);
        api.writePoint(point);
      }
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
    const out = new Map<string, PartialRow & { fields: Fields }>();
    for (const r of await this.queryApi.collectRows<Record<string, unknown>>(flux)) {
      const bucket = Date.parse(String(r._time));
      const rowTags = tagsOfRow(r, keep);
      const key = `${bucket}|${JSON.stringify(rowTags)}`;
      let row = out.get(key);
      if (row === undefined) out.set(key, (row = { family, bucket, tags: rowTags, fields: {} }));
      mergeFields(row.fields, { [String(r._field)]: Number(r._value) });
    }
    return [...out.values()].sort((a, b) => a.bucket - b.bucket);
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

function fluxString(s: string): string {
  return JSON.stringify(s);
}

function tagsOfRow(r: Record<string, unknown>, tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) if (typeof r[t] === 'string' && r[t] !== '') out[t] = r[t] as string;
  return out;
}

/**
 * Points of a family with `_time` in [from, to). The second filter is for InfluxDB 1.8,
 * whose range includes points at `stop` itself: a bucket starting at `to` would count.
 */
function rangeFlux(bucket: string, family: string, from: number, to: number): string {
  const stop = new Date(to).toISOString();
  return `from(bucket: ${fluxString(bucket)})
  |> range(start: ${new Date(from).toISOString()}, stop: ${stop})
  |> filter(fn: (r) => r._measurement == ${fluxString(family)} and r._time < ${stop})`;
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
