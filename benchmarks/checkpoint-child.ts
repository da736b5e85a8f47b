/**
 * A child process for `dedup_mb_at_bound` and `checkpoint_stall_ms_max` (--expose-gc).
 *
 * 1. Fills an engine (replay mode, the dedup bound of argv[3] MB) with waterlogging readings
 *    of 1,000 points, each with a new 20-character id, spread over 11 minutes of event time,
 *    until the bound has forgotten its first minutes — the index sits at its bound — and
 *    reports the memory that took after a full GC (heap + array buffers, over the baseline).
 * 2. Times what one checkpoint of that state blocked before chunked checkpoints: one
 *    JSON.stringify of the whole snapshot and one SQLite write of it.
 * 3. Writes the state as a chunked snapshot into argv[2] and starts the real service on it
 *    (HUITIAN_SNAPSHOT_INTERVAL_S=3, 127.0.0.1, a free port), which restores it; then answers
 *    `stats` (its checkpoints and engine counters) and `stop`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../src/engine/engine.js';
import type { HuitianEvent } from '../src/events/schemas.js';
import { createLogger } from '../src/logger.js';
import { createService } from '../src/service.js';
import { openDatabase } from '../src/sqlite/database.js';
import { EmbeddedStore } from '../src/sqlite/embedded-store.js';
import { ENTRY_BYTES } from '../src/time/dedup.js';

const [dataDir, boundText] = process.argv.slice(2);
if (dataDir === undefined || boundText === undefined) throw new Error('usage: checkpoint-child DATA_DIR DEDUP_MAX_MB');
const boundMb = Number(boundText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const fullGc = () => {
  gc();
  gc();
};
const MB = 1048576;
const used = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;

export const FILL_START = Date.parse('2026-07-21T08:00:00+08:00');
const FILL_MINUTES = 11;
/** The index's estimate of a key with 20 characters (see ENTRY_BYTES). */
const keysToBound = Math.ceil((boundMb * MB) / (ENTRY_BYTES + 40));
const total = Math.ceil(keysToBound * 1.1);

fullGc();
const baseline = process.memoryUsage();
const engineConfig = { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' as const, dedupMaxBytes: boundMb * MB };
let engine: Engine | null = new Engine(engineConfig);
const fillStarted = performance.now();
for (let from = 0; from < total; from += 5000) {
  const batch: HuitianEvent[] = [];
  for (let i = from; i < Math.min(from + 5000, total); i++) {
    const pointId = `BENCH-${String(i % 1000).padStart(4, '0')}`;
    batch.push({
      id: `wl-${String(i).padStart(17, '0')}`,
      source: '/sensors/waterlogging',
      type: 'huitian.waterlogging.reading',
      time: FILL_START + Math.floor((i / total) * FILL_MINUTES * 60_000),
      data: { pointId, depthCm: 3, district: '回龙观街道' },
    } as HuitianEvent);
  }
  engine.ingest(batch, 'bench', 0, true);
}
const fillSeconds = (performance.now() - fillStarted) / 1000;
fullGc();
const atBound = process.memoryUsage();
const stats = engine.stats();
process.send!({ type: 'dedup', boundMb, events: total, fillSeconds, stats, baseline, atBound, dedupMb: (used(atBound) - used(baseline)) / MB });

// What one checkpoint of this state held the event loop for before: one JSON text, written at once.
const scratch = mkdtempSync(join(tmpdir(), 'huitian-bench-json-'));
let before: { stringifyMs: number; writeMs: number; mb: number };
{
  const store = new EmbeddedStore(openDatabase(scratch));
  const t0 = performance.now();
  const text = JSON.stringify(engine.snapshot());
  const t1 = performance.now();
  store.writeSnapshot(text, 0);
  before = { stringifyMs: t1 - t0, writeMs: performance.now() - t1, mb: text.length / MB };
  store.close();
  rmSync(scratch, { recursive: true, force: true });
}

{
  const store = new EmbeddedStore(openDatabase(dataDir));
  const cp = engine.checkpoint();
  store.writeSnapshotChunks(
    (function* () {
      for (let c = cp.next(); c !== undefined; c = cp.next()) yield c;
    })(),
    0,
  );
  store.close();
}
engine = null;
fullGc();

const config = loadConfig({
  HUITIAN_DATA_DIR: dataDir,
  HUITIAN_HOST: '127.0.0.1',
  HUITIAN_PORT: '0',
  HUITIAN_TIME_MODE: 'replay',
  HUITIAN_INSTANCE_ID: 'bench',
  HUITIAN_LOG_LEVEL: 'error',
  HUITIAN_SNAPSHOT_INTERVAL_S: '3',
  HUITIAN_DEDUP_MAX_MB: String(boundMb),
});
const restoreStarted = performance.now();
const service = await createService(config, { logger: createLogger(config.logLevel) });
const restoreSeconds = (performance.now() - restoreStarted) / 1000;
const address = await service.start();

process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    process.send!({ type: 'stats', checkpoints: service.pipeline.checkpointStats(), stats: service.pipeline.engine.stats() });
  } else if (m.type === 'stop') {
    void service.stop().then(() => {
      process.send!({ type: 'stop' });
      process.disconnect();
    });
  }
});
process.send!({ type: 'ready', address, before, restoreSeconds, lastFillTime: FILL_START + FILL_MINUTES * 60_000 });
