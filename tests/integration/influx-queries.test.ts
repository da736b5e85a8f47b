/**
 * The benchmark's InfluxDB step (benchmarks/influx-query.ts, `influx_query_ms_max`) on a small
 * stream: every KPI of the catalogue over 24 h and over 7 d, without groupBy and grouped by each
 * of its group tags, answered from InfluxDB exactly as the embedded store answers it — by one
 * writer, and by three that split the stream (gauges from rollups and per-series aggregates
 * merged across writers; entities two writers wrote read per minute).
 */
import { describe, expect, inject, it } from 'vitest';
import { measureInfluxQueries } from '../../benchmarks/influx-query.js';
import { ensureStream, loadBatches } from '../../benchmarks/stream.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { uniqueSuffix } from './helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const services = inject('services');

/** The benchmark step on a small stream: every answer equals the embedded store's. */
async function expectEmbeddedAnswers(duration: string, seed: number, maxBatches: number, writers = 1, options: Parameters<typeof measureInfluxQueries>[5] = {}) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'huitian-influx-queries-'));
  try {
    const stream = ensureStream({ scenario: 'mixed', start: '2026-07-21T06:00:00+08:00', duration, seed, rateScale: 1, faults: 0.01 }, cacheDir);
    const batches = loadBatches(stream.path, 1000, maxBatches);
    const r = await measureInfluxQueries(batches, services.influx, () => undefined, `bench_${uniqueSuffix()}`, writers, options);
    expect(r).not.toBeNull();
    expect(r!.mismatches).toEqual([]);
    expect(r!.queries.length).toBe(KPI_CATALOGUE.reduce((n, k) => n + 2 * (1 + k.groupTags.length), 0));
    return r!;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

describe.skipIf(!services.available)('KPI queries on InfluxDB (the benchmark step)', () => {
  it('answers every KPI, grouped and not, over 24 h and 7 d, as the embedded store does', async () => {
    const r = await expectEmbeddedAnswers('6h', 7, 8000);
    expect(Number.isFinite(r.influx_query_ms_max)).toBe(true);
  }, 180_000);

  it('answers the same with three writers (cluster task names), entities split among them and some written by two', async () => {
    // Two hours: a sparse stream (fire and alert partials in few minutes, quiet districts).
    await expectEmbeddedAnswers('2h', 11, 3000, 3);
  }, 240_000);

  it('answers the same from data of which the first half was written before the rollups existed', async () => {
    await expectEmbeddedAnswers('2h', 13, 3000, 2, { dropRollupsBefore: 'half' });
  }, 240_000);
});
