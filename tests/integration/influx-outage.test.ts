/**
 * DESIGN §6: a sink that is down slows the pipeline; it never drops data and never lets
 * offsets run ahead of what was written. InfluxDB is stopped for 20 s mid-stream and
 * started again; the KPIs end complete and no offset is committed while it is away.
 */
import { spawnSync } from 'node:child_process';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { entityKeyOf } from '../../src/events/routing.js';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { createLogger } from '../../src/logger.js';
import type { Service } from '../../src/service.js';
import { fixtureStream } from './fixture-stream.js';
import { createInfluxDatabase, expectedKpis, normalise, referenceRun, serviceKpis, startTestService, uniqueSuffix, waitFor } from './helpers.js';

const services = inject('services');

function servicesScript(...args: string[]): void {
  const r = spawnSync('bash', ['scripts/services.sh', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`services.sh ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
}

describe.skipIf(!services.available)('InfluxDB down for 20 s mid-stream', () => {
  const sfx = uniqueSuffix();
  const topics = ['waterlogging', 'utility', 'parking', 'dispatch'].map((d) => `ito${sfx}.${d}`);
  const group = `ito-${sfx}`;
  const database = `it_outage_${sfx}`;
  const events = fixtureStream(9, 360);
  let kafka: Kafka;
  let producer: Producer;
  let service: Service;

  const produce = async (slice: typeof events) => {
    const byTopic = new Map<string, Array<{ key: string | null; value: string }>>();
    for (const e of slice) {
      const topic = `ito${sfx}.${e.type.split('.')[1]}`;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key: entityKeyOf(JSON.parse(e.line)) ?? null, value: e.line }]);
    }
    await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  };
  const committed = async (): Promise<string> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: group, topics });
      return JSON.stringify(offsets.map((t) => [t.topic, t.partitions.map((p) => `${p.partition}:${p.offset}`).sort()]));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    await createInfluxDatabase(services.influx, database);
    kafka = createKafka([services.kafka], group, createLogger('warn'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
    await admin.disconnect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    service = await startTestService({
      kafkaBrokers: services.kafka,
      kafkaTopics: topics.join(','),
      kafkaGroup: group,
      dlqTopic: `ito${sfx}.dlq`,
      influxUrl: services.influx,
      influxBucket: `${database}/autogen`,
      instanceId: group,
    });
  });

  afterAll(async () => {
    servicesScript('up', 'influxdb');
    await service?.stop();
    await producer?.disconnect();
  });

  it('holds offsets while InfluxDB is away and ends with complete KPIs', async () => {
    const lines = events.map((e) => e.line);
    const ref = referenceRun(lines);
    const half = Math.floor(events.length / 2);
    const firstRef = referenceRun(lines.slice(0, half));
    await produce(events.slice(0, half));
    await waitFor('first half consumed and written', () =>
      service.pipeline.engine.stats().accepted === firstRef.accepted && service.store.outboxSize() === 0 ? true : undefined,
    60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const before = await committed();

    servicesScript('down', 'influxdb');
    const outageStarted = Date.now();
    await produce(events.slice(half));
    await waitFor('second half consumed into the engine', () => (service.pipeline.engine.stats().accepted > firstRef.accepted ? true : undefined), 30_000);
    let samples = 0;
    while (Date.now() - outageStarted < 20_000) {
      expect(await committed()).toBe(before);
      expect(service.store.outboxSize()).toBeGreaterThan(0);
      samples++;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(samples).toBeGreaterThanOrEqual(5);
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe('NOT_READY');

    servicesScript('up', 'influxdb');
    await waitFor('everything consumed and written', () =>
      service.pipeline.engine.stats().accepted === ref.accepted && service.store.outboxSize() === 0 ? true : undefined,
    90_000);
    await waitFor('offsets committed past the outage', async () => ((await committed()) !== before ? true : undefined), 30_000);
    const expected = expectedKpis(ref);
    const actual = await serviceKpis(service);
    for (const name of Object.keys(expected)) expect(normalise(actual[name]), name).toEqual(normalise(expected[name]));
  });
});
