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
import { evaluateKpi } from '../src/kpis/query.js';
import { createLogger } from '../src/logger.js';
import { createService } from '../src/service.js';
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

export async function measureInfluxQueries(batches: readonly Batch[], url: string, say: (s: string) => void, db = BENCH_INFLUX_DB): Promise<InfluxQueryResult | null> {
  if (url === '') return null;
  const bucket = `${db}/autogen`;
  // A fresh database, so earlier runs' points are not read.
  for (const q of [`DROP DATABASE "${db}"`, `CREATE DATABASE "${db}"`]) {
    const res = await fetch(new URL(`/query?q=${encodeURIComponent(q)}`, url), { method: 'POST' });
    if (!res.ok) throw new Error(`InfluxDB ${q}: ${res.status}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-influx-'));
  const config = loadConfig({
    HUITIAN_DATA_DIR: dataDir,
    HUITIAN_HOST: '127.0.0.1',
    HUITIAN_PORT: '0',
    HUITIAN_TIME_MODE: 'replay',
    HUITIAN_INSTANCE_ID: 'bench',
    HUITIAN_LOG_LEVEL: 'error',
    HUITIAN_INFLUX_URL: url,
    HUITIAN_INFLUX_BUCKET: bucket,
  });
  const service = await createService(config, { logger: createLogger(config.logLevel) });
  try {
    await service.start();
    const started = performance.now();
    for (const b of batches) {
      const res = await service.app.inject({ method: 'POST', url: '/v1/events', payload: b.bytes, headers: { 'content-type': 'application/x-ndjson' } });
      if (res.statusCode !== 202 && res.statusCode !== 400) throw new Error(`POST /v1/events answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    }
    await service.pipeline.flushSink();
    const writeSeconds = (performance.now() - started) / 1000;
    const points = (service.store.db.prepare('SELECT COUNT(*) AS n FROM kpi_outbox').get() as { n: number }).n;
    say(`influx: stream written in ${writeSeconds.toFixed(0)} s (outbox left: ${points})`);

    const to = Math.ceil(service.pipeline.engine.watermark / 3_600_000) * 3_600_000;
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
          const embedded = evaluateKpi(def, service.store.partialRowsSync(def.family, from, to, grouping), from, to, groupBy === '' ? [] : [groupBy]);
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
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** JSON with keys sorted, so that key order does not count. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}
