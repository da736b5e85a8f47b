/**
 * A child process that builds the real service (createService: engine, embedded SQLite
 * store, metrics, HTTP app, not listening) on a fresh data directory, feeds its pipeline
 * events for `entities` distinct entities — a third waterlogging sensors, a third
 * parking lots, a third fire incidents — and reports its resident memory after a full
 * garbage collection (run with --expose-gc). Nothing else runs in this process, so the
 * figure is the service's own.
 *
 * Every sensor and lot reports once a minute for three minutes; every incident is
 * received and then dispatched, with no arrival yet, so all of them are still held
 * (pending incidents with their 5-minute deadlines, latest readings, dedup keys) when
 * memory is measured.
 *
 * argv[2]: data directory; argv[3]: number of entities.
 */
import { loadConfig } from '../src/config.js';
import { decodeEvent } from '../src/events/decode.js';
import { createLogger } from '../src/logger.js';
import type { Candidate } from '../src/pipeline/pipeline.js';
import { createService } from '../src/service.js';

const [dataDir, entitiesText] = process.argv.slice(2);
if (dataDir === undefined || entitiesText === undefined) throw new Error('usage: memory-child DATA_DIR ENTITIES');
const entities = Number(entitiesText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function fullGc(): void {
  gc!();
  gc!();
}

const config = loadConfig({ HUITIAN_DATA_DIR: dataDir, HUITIAN_TIME_MODE: 'replay', HUITIAN_INSTANCE_ID: 'bench', HUITIAN_LOG_LEVEL: 'error' });
const service = await createService(config, { logger: createLogger(config.logLevel) });
fullGc();
const baseline = process.memoryUsage();

const DISTRICTS = ['回龙观街道', '龙泽园街道', '史各庄街道', '霍营街道', '天通苑北街道', '天通苑南街道', '东小口镇'];
const base = Date.parse('2026-07-21T08:00:00+08:00');
const points = Math.ceil(entities / 3);
const lots = Math.ceil((entities - points) / 2);
const incidents = entities - points - lots;

/** The events of one minute of the scenario, in event-time order. */
function* minute(round: number): Generator<Record<string, unknown>> {
  const start = base + round * 60_000;
  const n = Math.max(points, lots, incidents);
  for (let i = 0; i < n; i++) {
    const time = new Date(start + Math.floor((i / n) * 59_000)).toISOString();
    const district = DISTRICTS[i % DISTRICTS.length]!;
    if (i < points) {
      const pointId = `MEM-WL-${i}`;
      yield { specversion: '1.0', id: `${pointId}-${round}`, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time, data: { pointId, depthCm: (i % 120) / 10, district, name: `积水点 ${i}` } };
    }
    if (i < lots) {
      const lotId = `MEM-P-${i}`;
      yield { specversion: '1.0', id: `${lotId}-${round}`, source: '/parking/guidance', type: 'huitian.parking.occupancy', time, data: { lotId, capacity: 500, occupied: (i * 7 + round * 13) % 450, district, name: `停车场 ${i}` } };
    }
    if (i < incidents && round < 2) {
      const incidentId = `MEM-F-${i}`;
      yield round === 0
        ? { specversion: '1.0', id: `${incidentId}-received`, source: '/dispatch/119', type: 'huitian.dispatch.received', time, data: { incidentId, category: 'fire', district, station: '回龙观西消防站' } }
        : { specversion: '1.0', id: `${incidentId}-dispatched`, source: '/dispatch/119', type: 'huitian.dispatch.dispatched', time, data: { incidentId, unitId: `U-${i % 40}`, station: '回龙观西消防站' } };
    }
  }
}

const BATCH = 5000;
let events = 0;
let batch: Candidate[] = [];
const flush = () => {
  service.pipeline.ingest('bench', batch, [], { idleAfter: true });
  batch = [];
};
for (let round = 0; round < 3; round++) {
  for (const raw of minute(round)) {
    const decoded = decodeEvent(raw);
    if (!decoded.ok) throw new Error(decoded.reason);
    // Every event here is accepted, so no record text is ever dead-lettered.
    batch.push({ index: batch.length, event: decoded.event, raw: '' });
    events++;
    if (batch.length === BATCH) flush();
  }
}
if (batch.length > 0) flush();

fullGc();
await new Promise((r) => setTimeout(r, 100));
fullGc();
const after = process.memoryUsage();
process.send!({
  type: 'memory',
  entities: { waterloggingPoints: points, parkingLots: lots, incidents },
  events,
  stats: service.pipeline.engine.stats(),
  baseline,
  after,
});
await service.stop();
process.disconnect();
