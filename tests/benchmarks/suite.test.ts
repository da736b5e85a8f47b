/**
 * The benchmark's code paths on a tiny stream: every figure comes out as a finite positive
 * number, with the machine and the date. No timing is asserted here; the targets live in
 * the benchmark (npm run bench), where a miss is reported with its numbers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSuite, TARGETS } from '../../benchmarks/suite.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'huitian-bench-test-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const FIGURES = [
  'json_parse_eps',
  'decode_eps',
  'engine_eps',
  'engine_ratio',
  'http_eps',
  'alert_latency_ms_p99',
  'rss_mb_100k_entities',
  'alert_latency_ms_p99_light_load',
  'checkpoint_stall_ms_max',
  'dedup_mb_at_bound',
] as const;

describe('npm run bench, on 5k events', () => {
  it('gives every figure as a finite positive number, with targets, machine and date', async () => {
    const results = await runSuite({
      stream: { scenario: 'mixed', start: '2026-07-21T06:00:00+08:00', duration: '6h', seed: 7, rateScale: 1, faults: 0.01 },
      cacheDir,
      maxEvents: 5000,
      batchLines: 500,
      crossings: 10,
      backgroundEps: 1000,
      entities: 3000,
      dedupBoundMb: 4,
      checkpointSeconds: 4,
    });
    const json = JSON.parse(JSON.stringify(results)) as Record<string, unknown>;
    for (const key of FIGURES) {
      const value = json[key];
      expect(typeof value, key).toBe('number');
      expect(Number.isFinite(value) && (value as number) > 0, `${key} = ${String(value)}`).toBe(true);
    }
    expect(Object.keys(json.targets as object).sort()).toEqual(Object.keys(TARGETS).sort());
    expect(results.stream.events).toBe(5000);
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(results.date))).toBe(false);
    // The HTTP run is only counted once the server's engine accepted what the in-process one did.
    expect(results.details.http.accepted).toBe(results.details.inProcess.engine.accepted);
    // The checkpoint figure is of requests that overlapped real checkpoints, of an index at its bound.
    expect(results.details.checkpoint.checkpoints).toBeGreaterThan(0);
    expect(results.details.checkpoint.requestsDuringCheckpoints).toBeGreaterThan(0);
    expect(results.details.dedupBound.evictedKeys).toBeGreaterThan(0);
  }, 180_000);
});
