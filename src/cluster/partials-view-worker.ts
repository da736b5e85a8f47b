/**
 * The partials view's writer in a worker thread (docs/cluster.md §7): its own kafkajs
 * consumer of `G.partials`, from the beginning, in a group of its own per process start,
 * and its own connection to the view's file. Reading the topic back and upserting its
 * bucket records was ~11 % of a member's CPU on the benchmark stream, on the event loop
 * that also applies the tasks' input; here it runs beside it. The main thread only reads
 * the file (KPI queries): WAL, so a read never waits for this writer.
 *
 * workerData: PartialsWorkerData. Messages from the parent: `{ type: 'stop' }`; to the
 * parent: `{ type: 'started' }`, `{ type: 'failed', message }`, `{ type: 'stopped' }`.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka } from '../kafka/kafka-client.js';
import { createLogger } from '../logger.js';
import { openPartialsFile, PartialsView } from './partials-view.js';

export interface PartialsWorkerData {
  brokers: string[];
  clientId: string;
  group: string;
  topic: string;
  file: string;
  logLevel: string;
}

const data = workerData as PartialsWorkerData;
const port = parentPort!;
const logger = createLogger(data.logLevel).child({ component: 'cluster-partials-view' });
const db = openPartialsFile(data.file);
const view = new PartialsView(db);
const kafka = createKafka(data.brokers, data.clientId, logger);
const consumer = kafka.consumer({ groupId: `${data.group}.partials.${randomUUID()}`, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: 4 * 1024 * 1024 });
consumer.on(consumer.events.CRASH, (e) => {
  logger.error({ err: e.payload.error, restart: e.payload.restart }, 'partials view consumer crashed');
  if (!e.payload.restart) port.postMessage({ type: 'failed', message: e.payload.error.message });
});

port.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void consumer
    .disconnect()
    .catch(() => undefined)
    .then(() => {
      db.close();
      port.postMessage({ type: 'stopped' });
    });
});

try {
  await consumer.connect();
  await consumer.subscribe({ topics: [data.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      view.applyRecords(batch.messages);
      resolveOffset(batch.lastOffset());
    },
  });
  port.postMessage({ type: 'started' });
} catch (err) {
  logger.error({ err }, 'partials view consumer did not start');
  port.postMessage({ type: 'failed', message: (err as Error).message });
}
