/**
 * Events produced to Kafka (structured and binary mode) come out as the right KPIs in
 * InfluxDB and the right alerts on NATS; invalid records reach the dead-letter topic
 * with their reason; committed offsets reach the end of every partition.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { entityKeyOf } from '../../src/events/routing.js';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { createLogger } from '../../src/logger.js';
import type { Service } from '../../src/service.js';
import { fixtureStream, POISON_LINES } from './fixture-stream.js';
import { createInfluxDatabase, createTopicsAndProducer, expectedKpis, normalise, referenceRun, sendByTopic, serviceKpis, startTestService, uniqueSuffix, waitFor, waitForSettled } from './helpers.js';

const services = inject('services');

describe.skipIf(!services.available)('Kafka in, InfluxDB and NATS out', () => {
  const sfx = uniqueSuffix();
  const topicOf = (type: string) => `it${sfx}.${type.split('.')[1]}`;
  const topics = ['waterlogging', 'utility', 'parking', 'dispatch'].map((d) => `it${sfx}.${d}`);
  const dlqTopic = `it${sfx}.dlq`;
  const database = `it_${sfx}`;
  const events = fixtureStream(11);
  const lines = events.map((e) => e.line);
  let kafka: Kafka;
  let producer: Producer;
  let nc: NatsConnection;
  let service: Service;
  const alertMessages: Array<{ subject: string; body: { seq: number; action: string; alert: { id: string; category: string; severity: string } } }> = [];

  beforeAll(async () => {
    await createInfluxDatabase(services.influx, database);
    kafka = createKafka([services.kafka], `it-${sfx}`, createLogger('warn'));
    producer = await createTopicsAndProducer(kafka, [...topics, dlqTopic]);
    nc = await connect({ servers: services.nats });
    const sub = nc.subscribe('huitian.alerts.>');
    void (async () => {
      for await (const m of sub) alertMessages.push({ subject: m.subject, body: m.json() });
    })();
    // Every third record in CloudEvents binary mode: attributes as ce_ headers, data as the value.
    const messages = events.map((e, i) => {
      const parsed = JSON.parse(e.line) as Record<string, unknown>;
      if (i % 3 !== 0) return { topic: topicOf(e.type), key: entityKeyOf(parsed) ?? null, value: e.line, headers: { 'content-type': 'application/cloudevents+json' } };
      const { data, ...attributes } = parsed;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [k, v] of Object.entries(attributes)) headers[`ce_${k}`] = String(v);
      return { topic: topicOf(e.type), key: entityKeyOf(parsed) ?? null, value: JSON.stringify(data), headers };
    });
    await sendByTopic(producer, messages);
    await producer.send({ topic: topics[0]!, messages: POISON_LINES.map((value) => ({ key: 'WL-0', value })) });
    service = await startTestService({
      kafkaBrokers: services.kafka,
      kafkaMode: 'single',
      kafkaTopics: topics.join(','),
      kafkaGroup: `it-${sfx}`,
      dlqTopic,
      natsUrl: services.nats,
      natsConsume: false,
      influxUrl: services.influx,
      influxBucket: `${database}/autogen`,
      instanceId: `it-${sfx}`,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.disconnect();
    await nc?.drain();
  });

  it('computes every KPI in InfluxDB exactly as an uninterrupted in-process run does', async () => {
    const ref = referenceRun(lines);
    await waitForSettled(service, ref);
    const stats = service.pipeline.engine.stats();
    // Exactly the stream's events are applied once. Kafka delivers at least once: a
    // rebalance on a loaded machine (a missed heartbeat) re-delivers records after the last
    // committed offset, which dedup absorbs, so re-sends can only add duplicates.
    expect(stats.accepted).toBe(ref.accepted);
    expect(stats.duplicates).toBeGreaterThanOrEqual(ref.duplicates);
    expect(stats.late).toBe(0);
    const expected = expectedKpis(ref);
    const actual = await serviceKpis(service);
    for (const name of Object.keys(expected)) expect(normalise(actual[name]), name).toEqual(normalise(expected[name]));
    // The stream was built to decide real outcomes, not an empty KPI.
    expect(expected.fire_response_coverage_5min!.denominator).toBeGreaterThan(10);
    expect(expected.waterlogging_max_depth_cm!.max).toBeGreaterThanOrEqual(40);
  });

  it('announces every alert transition on huitian.alerts.<category>.<severity>', async () => {
    const ref = referenceRun(lines);
    const want = ref.alerts.map((c) => `${c.alert.id}:${c.action}:${c.alert.category}.${c.alert.severity}`).sort();
    await waitFor('alerts on NATS', () => (alertMessages.length >= want.length ? true : undefined), 30_000);
    const got = alertMessages.map((m) => `${m.body.alert.id}:${m.body.action}:${m.subject.replace('huitian.alerts.', '')}`).sort();
    expect(got).toEqual(want);
    expect(want.some((w) => w.includes(':flood.red'))).toBe(true);
    expect(want.some((w) => w.includes(':utility.red'))).toBe(true);
    expect(want.some((w) => w.includes(':parking.blue'))).toBe(true);
  });

  it('forwards invalid records to the dead-letter topic with the reason in a header, the original key and the source offset', async () => {
    const consumer = kafka.consumer({ groupId: `it-dlq-${sfx}` });
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    const seen: Array<{ value: string; reason: string; key: string | null; channel: string; offset: string }> = [];
    await consumer.run({
      eachMessage: async ({ message }) =>
        void seen.push({
          value: message.value!.toString(),
          reason: String(message.headers!['huitian-reason']),
          key: message.key === null ? null : message.key.toString(),
          channel: String(message.headers!['huitian-channel']),
          offset: String(message.headers!['huitian-source-offset']),
        }),
    });
    await waitFor('dead letters', () => (seen.length >= 2 ? true : undefined), 30_000);
    await consumer.disconnect();
    // Each dead letter leads back to its record: the key it had, its topic, partition and offset.
    const input = kafka.consumer({ groupId: `it-dlq-src-${sfx}` });
    await input.connect();
    try {
      await input.subscribe({ topic: topics[0]!, fromBeginning: true });
      const records = new Map<string, string | undefined>();
      await input.run({ eachMessage: async ({ partition, message }) => void records.set(`${partition}@${message.offset}`, message.value?.toString()) });
      for (const d of seen) {
        expect(d.key).toBe('WL-0');
        const [, topic, partition] = d.channel.split(':');
        expect(topic).toBe(topics[0]);
        expect(d.offset).toMatch(/^\d+$/);
        const found = await waitFor(`record ${d.channel}@${d.offset}`, () => records.get(`${partition}@${d.offset}`), 30_000);
        expect(found).toBe(d.value);
      }
    } finally {
      await input.disconnect();
    }
    const reasons = seen.map((s) => s.reason).sort();
    expect(reasons[0]).toMatch(/^\(event\): invalid JSON/);
    expect(reasons[1]).toBe('data.depthCm: must be ≥ 0');
    expect(seen.map((s) => s.value)).toContain('this is not json');
    const stored = service.store.listDeadLetters(10).items.map((d) => d.reason);
    expect(stored).toContain('data.depthCm: must be ≥ 0');
  });

  it('commits offsets up to the end of every partition once the effects are durable', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) {
        const end = await admin.fetchTopicOffsets(topic);
        const committed = await admin.fetchOffsets({ groupId: `it-${sfx}`, topics: [topic] });
        const byPartition = new Map(committed[0]!.partitions.map((p) => [p.partition, p.offset]));
        for (const p of end) expect(byPartition.get(p.partition), `${topic}:${p.partition}`).toBe(p.high === '0' ? '-1' : p.high);
      }
    } finally {
      await admin.disconnect();
    }
  });
});

