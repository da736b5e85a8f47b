/**
 * A child process running the real service in cluster mode (docs/cluster.md): a member of
 * a consumer group over the benchmark's input topics, replay mode, KPI partials to its
 * partials topic (no InfluxDB), every other setting the service's default. It answers over
 * IPC:
 *
 * - `status`: its tasks (as `/readyz` lists them) and when its first input batch arrived;
 * - `caught-up` `{ inputTasks }`: once it owns all `inputTasks` input tasks, each restored
 *   with lag 0, and every output handed to Kafka so far is acknowledged (every KPI partial
 *   durable), the time of that moment and of its first record (epoch ms), and CPU marks
 *   (cpu-time.ts) at the first record and at that moment;
 * - `settled`: once every output handed to Kafka so far is acknowledged, the time of that moment;
 * - `stop`: a graceful stop (checkpoints, leaves the group).
 *
 * argv[2..]: data directory, brokers, group, input topics (comma-separated), dead-letter topic.
 */
import { loadConfig } from '../src/config.js';
import { GLOBAL_TASK } from '../src/cluster/cluster-runtime.js';
import { createLogger } from '../src/logger.js';
import { createService } from '../src/service.js';
import { cpuMark, type CpuMark } from './cpu-time.js';

const [dataDir, brokers, group, topics, dlq, name] = process.argv.slice(2);
if (dataDir === undefined || brokers === undefined || group === undefined || topics === undefined || dlq === undefined) {
  throw new Error('usage: kafka-member-child DATA_DIR BROKERS GROUP TOPICS DLQ [NAME]');
}

const config = loadConfig({
  HUITIAN_DATA_DIR: dataDir,
  HUITIAN_HOST: '127.0.0.1',
  HUITIAN_PORT: '0',
  HUITIAN_TIME_MODE: 'replay',
  HUITIAN_INSTANCE_ID: name ?? 'bench',
  HUITIAN_LOG_LEVEL: 'error',
  HUITIAN_KAFKA_BROKERS: brokers,
  HUITIAN_KAFKA_MODE: 'cluster',
  HUITIAN_KAFKA_GROUP: group,
  HUITIAN_KAFKA_TOPICS: topics,
  HUITIAN_DLQ_TOPIC: dlq,
});
const service = await createService(config, { logger: createLogger(config.logLevel) });
const address = await service.start();
const cluster = service.cluster;
if (cluster === undefined) throw new Error('not in cluster mode');

const now = () => performance.timeOrigin + performance.now();

async function caughtUp(inputTasks: number): Promise<{ at: number; firstRecordAt: number | undefined; cpu: { from: CpuMark; to: CpuMark } | undefined }> {
  // CPU from (within one poll of) the first record to the moment caught up (cpu-time.ts).
  let from: CpuMark | undefined;
  for (;;) {
    if (from === undefined && cluster!.firstRecordAt !== undefined) from = cpuMark();
    const tasks = cluster!.status().tasks.filter((t) => t.task !== GLOBAL_TASK);
    if (tasks.length === inputTasks && tasks.every((t) => t.state === 'active' && t.lag === 0)) {
      await cluster!.settled();
      const to = cpuMark();
      return { at: now(), firstRecordAt: cluster!.firstRecordAt, cpu: from === undefined ? undefined : { from, to } };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

process.on('message', (m: { type: string; inputTasks?: number }) => {
  if (m.type === 'status') {
    process.send!({ type: 'status', tasks: cluster.status().tasks, firstRecordAt: cluster.firstRecordAt, rssMb: Math.round(process.memoryUsage().rss / 1048576) });
  } else if (m.type === 'caught-up') {
    void caughtUp(m.inputTasks ?? 0).then((r) => process.send!({ type: 'caught-up', ...r }));
  } else if (m.type === 'settled') {
    void cluster.settled().then(() => process.send!({ type: 'settled', at: now() }));
  } else if (m.type === 'stop') {
    void service.stop().then(() => {
      process.send!({ type: 'stop' });
      process.disconnect();
    });
  }
});
process.send!({ type: 'ready', address });
