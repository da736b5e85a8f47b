/**
 * `kafka_floor_eps`'s consumer: a bare kafkajs consumer, in a group of its own, over the
 * same input topics with the service's consumer settings (eachBatch, 4 partitions at a
 * time, 1 MiB per partition per fetch), doing nothing but `JSON.parse` of each record's
 * value. It tells its parent, over IPC, when its first record arrived and when it had
 * parsed `total` records (epoch ms), with CPU marks (cpu-time.ts) at both moments.
 *
 * argv[2..]: brokers, group, input topics (comma-separated), total records.
 */
import { Kafka, logLevel } from 'kafkajs';
import { cpuMark, type CpuMark } from './cpu-time.js';

const [brokers, group, topics, totalText] = process.argv.slice(2);
if (brokers === undefined || group === undefined || topics === undefined || totalText === undefined) {
  throw new Error('usage: kafka-floor-child BROKERS GROUP TOPICS TOTAL');
}
const total = Number(totalText);
const now = () => performance.timeOrigin + performance.now();

const kafka = new Kafka({ clientId: 'huitian-bench-floor', brokers: brokers.split(','), logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 1024 * 1024 });
await consumer.connect();
await consumer.subscribe({ topics: topics.split(','), fromBeginning: true });

let firstRecordAt: number | undefined;
let firstMark: CpuMark | undefined;
let records = 0;
let parsed = 0;
let malformed = 0;
let finished = false;
await consumer.run({
  partitionsConsumedConcurrently: 4,
  eachBatch: async ({ batch }) => {
    if (batch.messages.length === 0) return;
    if (firstRecordAt === undefined) {
      firstRecordAt = now();
      firstMark = cpuMark();
    }
    for (const m of batch.messages) {
      try {
        JSON.parse(m.value === null ? 'null' : m.value.toString('utf8'));
        parsed++;
      } catch {
        malformed++;
      }
    }
    records += batch.messages.length;
    if (records >= total && !finished) {
      finished = true;
      const lastRecordAt = now();
      process.send!({ type: 'done', firstRecordAt, lastRecordAt, records, parsed, malformed, cpu: { from: firstMark, to: cpuMark() } });
    }
  },
});

process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') {
    void consumer.disconnect().then(() => {
      process.send!({ type: 'stop' });
      process.disconnect();
    });
  }
});
process.send!({ type: 'ready' });
