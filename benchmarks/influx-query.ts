/**
 * `influx_query_ms_max`: the slowest answer of `GET /v1/kpis/{name}` from InfluxDB over the
 * whole catalogue — every KPI over the stream's 24 h and over 7 days ending with it, without
 * groupBy and grouped by each of its group tags — for the benchmark's stream.
 *
 * A real service (createService, replay mode) writes its KPI partials to the InfluxDB 1.8 at
 * `HUITIAN_INFLUX_URL` of the command line (scripts/services.sh, auth off), into database
 * `huitian_bench`, dropped and created first; the stream is posted to it in-process (app.inject), the outbox
 * flushed, then each query is timed and its answer compared with the embedded store's
 * answer for the same request (they must be equal). Skipped when no InfluxDB is configured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { KPI_CATALOGUE } from '../src/kpis/catalogue.js';
import { GAUGE_FAMILIES, rollupFamilies } from '../src/kpis/gauge-rollups.js';
import { withConfiguredTarget } from '../src/kpis/kpi-definition.js';
import { mergeFields, tagKeyOf, type Fields } from '../src/kpis/partials.js';
import { evaluateKpi, type PartialRow } from '../src/kpis/query.js';
import { createLogger } from '../src/logger.js';
import { createService, type Service } from '../src/service.js';
import type { Batch } from './stream.js';

export interface InfluxQueryResult {
  influx_query_ms_max: number;
  queries: Array<{ kpi: string; range: string; groupBy: string; ms: number }>;
  writeSeconds: number;
  points: number;
  mismatches: string[];
}

const DAY = 86_400_000;

/** The bench's own database: dropped and created anew by each run, so never a service's. */
export const BENCH_INFLUX_DB = 'huitian_bench';

/**
 * With `writers` > 1, that many services (instance ids `huitian.dispatch-<n>`, as cluster
 * tasks are named) each write their share of the stream into the one database — split by
 * entity, as Kafka partitions are keyed, except one line in 20 split by event id, so that
 * some entities are written by several writers (a moved task, a renamed instance) — and the
 * reference is every service's embedded partials merged per (bucket, tags), as a store
 * merges writers.
 */
export async function measureInfluxQueries(
  batches: readonly Batch[],
  url: string,
  say: (s: string) => void,
  db = BENCH_INFLUX_DB,
  writers = 1,
  options: { dropRollupsBefore?: 'half' } = {},
): Promise<InfluxQueryResult | null> {
  if (url === '') return null;
  const bucket = `${db}/autogen`;
  // A fresh database, so earlier runs' points are not read.
  for (const q of [`DROP DATABASE "${db}"`, `CREATE DATABASE "${db}"`]) {
    const res = await fetch(new URL(`/query?q=${encodeURIComponent(q)}`, url), { method: 'POST' });
    if (!res.ok) throw new Error(`InfluxDB ${q}: ${res.status}`);
  }
  const dataDirs: string[] = [];
  const services: Service[] = [];
  try {
    for (let w = 0; w < writers; w++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-influx-'));
      dataDirs.push(dataDir);
      const config = loadConfig({
        HUITIAN_DATA_DIR: dataDir,
        HUITIAN_HOST: '127.0.0.1',
        HUITIAN_PORT: '0',
        HUITIAN_TIME_MODE: 'replay',
        HUITIAN_INSTANCE_ID: writers === 1 ? 'bench' : `huitian.dispatch-${w}`,
        HUITIAN_LOG_LEVEL: 'error',
        HUITIAN_INFLUX_URL: url,
        HUITIAN_INFLUX_BUCKET: bucket,
      });
      const service = await createService(config, { logger: createLogger(config.logLevel) });
      services.push(service);
      await service.start();
    }
    const service = services[0]!;
    const started = performance.now();
    for (const b of batches) {
      const shares = writers === 1 ? [b.bytes] : splitBatch(b.text, writers);
      for (let w = 0; w < writers; w++) {
        if (shares[w]!.length === 0) continue;
        const res = await services[w]!.app.inject({ method: 'POST', url: '/v1/events', payload: shares[w]!, headers: { 'content-type': 'application/x-ndjson' } });
        if (res.statusCode !== 202 && res.statusCode !== 400) throw new Error(`POST /v1/events answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      }
    }
    for (const s of services) await s.pipeline.flushSink();
    const writeSeconds = (performance.now() - started) / 1000;
    let points = 0;
    for (const s of services) points += (s.store.db.prepare('SELECT COUNT(*) AS n FROM kpi_outbox').get() as { n: number }).n;
    say(`influx: stream written in ${writeSeconds.toFixed(0)} s by ${writers} writer(s) (outbox left: ${points})`);

    const to = Math.ceil(Math.max(...services.map((s) => s.pipeline.engine.watermark)) / 3_600_000) * 3_600_000;
    if (options.dropRollupsBefore === 'half') {
      // Data as written before the rollups existed, for the first half of the stream: the
      // reader must see that the rollups do not account for every minute and read minutes.
      const first = Math.min(...services.flatMap((s) => [...GAUGE_FAMILIES.keys()].flatMap((f) => s.store.partialRowsSync(f, 0, to, 'bucket').map((r) => r.bucket))));
      const half = new Date(first + (to - first) / 2).toISOString();
      for (const g of GAUGE_FAMILIES.values()) {
        for (const { family } of rollupFamilies(g)) {
          const q = `DELETE FROM "${family}" WHERE time < '${half}'`;
          const res = await fetch(new URL(`/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`, url), { method: 'POST' });
          if (!res.ok) throw new Error(`InfluxDB ${q}: ${res.status} ${await res.text()}`);
        }
      }
    }
    const queries: InfluxQueryResult['queries'] = [];
    const mismatches: string[] = [];
    for (const def of KPI_CATALOGUE) {
      for (const [range, from] of [['24h', to - DAY], ['7d', to - 7 * DAY]] as const) {
        for (const groupBy of ['', ...def.groupTags]) {
          const qs = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${groupBy === '' ? '' : `&groupBy=${groupBy}`}`;
          const t0 = performance.now();
          const res = await service.app.inject({ method: 'GET', url: `/v1/kpis/${def.name}?${qs}` });
          const ms = performance.now() - t0;
          queries.push({ kpi: def.name, range, groupBy, ms: Math.round(ms) });
          if (res.statusCode !== 200) {
            mismatches.push(`${def.name} ${range} ${groupBy}: ${res.statusCode} ${res.body.slice(0, 200)}`);
            continue;
          }
          const grouping = def.kind === 'gauge' ? (groupBy !== '' ? 'bucket-and-tags' : 'bucket') : 'tags';
          const rows = writers === 1 ? service.store.partialRowsSync(def.family, from, to, grouping) : mergedOverWriters(services.map((s) => s.store.partialRowsSync(def.family, from, to, 'bucket-and-tags')));
          const embedded = evaluateKpi(withConfiguredTarget(def, service.config.rules), rows, from, to, groupBy === '' ? [] : [groupBy]);
          const answer = res.json() as Record<string, unknown>;
          const { from: _f, to: _t, ...rest } = embedded;
          const { from: _af, to: _at, ...answerRest } = answer;
          const a = canonical(answerRest);
          const e = canonical(rest);
          if (a !== e) mismatches.push(`${def.name} ${range} ${groupBy}: InfluxDB answered ${a.slice(0, 400)}; the embedded store ${e.slice(0, 400)}`);
          say(`influx: ${def.name} ${range} ${groupBy || '(all)'}: ${ms.toFixed(0)} ms`);
        }
      }
    }
    return { influx_query_ms_max: Math.max(...queries.map((q) => q.ms)), queries, writeSeconds, points, mismatches };
  } finally {
    for (const s of services) await s.stop();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Each writer's lines of an NDJSON batch: by entity (the event's subject), one in 20 by event id. */
function splitBatch(text: string, writers: number): Buffer[] {
  const shares: string[][] = Array.from({ length: writers }, () => []);
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let key = line;
    try {
      const e = JSON.parse(line) as { id?: unknown; subject?: unknown };
      key = typeof e.subject === 'string' && hash(String(e.id)) % 20 !== 0 ? e.subject : String(e.id);
    } catch {
      // A line that is no JSON goes where its text says: it is refused either way.
    }
    shares[hash(key) % writers]!.push(line);
  }
  return shares.map((lines) => Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`));
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Rows of several stores merged per (bucket, tags), in store order, as a reader merges writers. */
function mergedOverWriters(perStore: ReadonlyArray<readonly PartialRow[]>): PartialRow[] {
  const out = new Map<string, PartialRow & { fields: Fields }>();
  for (const rows of perStore) {
    for (const r of rows) {
      const key = `${r.bucket}|${tagKeyOf(r.tags)}`;
      const row = out.get(key);
      if (row === undefined) out.set(key, { ...r, tags: { ...r.tags }, fields: { ...r.fields } });
      else mergeFields(row.fields, r.fields);
    }
  }
  return [...out.values()];
}

/** JSON with keys sorted, so that key order does not count. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}
