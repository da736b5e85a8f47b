/**
 * DESIGN §6: a sink that is down slows the pipeline; it never drops data and never lets
 * offsets run ahead of what was written. InfluxDB is stopped for 20 s mid-stream and
 * started again; the KPIs end complete and no offset is committed while it is away.
 */
import { spawnSync } from 'node:child_process';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { createLogger } from '../../src/logger.js';
import type { Service } from '../../src/service.js';
import { fixtureStream } from './fixture-stream.js';
import { createInfluxDatabase, createTopicsAndProducer, expectedKpis, fixtureRecord, normalise, referenceRun, sendByTopic, serviceKpis, startTestService, uniqueSuffix, waitFor, waitForSettled } from './helpers.js';

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

  // Each slice in one batch per topic.
  const produce = (slice: typeof events) => sendByTopic(producer, slice.map((e) => fixtureRecord(`ito${sfx}`, e)), slice.length);
  const committed = async (): Promise<string> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: group, topics });
      return JSON.stringify(offsets.map((t) => [t.topic, t.partitions.map((p) => `${p.partition}:${p.offset}`).sort()] as [string, string[]]).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    } finally {
      await admin.disconnect();
    }
  };

  const endOffsets = async (): Promise<string> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const out: Array<[string, string[]]> = [];
      for (const topic of [...topics].sort()) {
        const offsets = await admin.fetchTopicOffsets(topic);
        out.push([topic, offsets.map((p) => `${p.partition}:${p.high === '0' ? '-1' : p.high}`).sort()]);
      }
      return JSON.stringify(out);
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    await createInfluxDatabase(services.influx, database);
    kafka = createKafka([services.kafka], group, createLogger('warn'));
    producer = await createTopicsAndProducer(kafka, topics);
    service = await startTestService({
      kafkaBrokers: services.kafka,
      kafkaMode: 'single',
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
    await waitFor('second half reaching the engine', () => (service.pipeline.engine.stats().accepted > firstRef.accepted ? true : undefined), 30_000);
    // Batches whose steps produced no KPI partials are durable once in the embedded store
    // and may be committed; the first batch whose partials cannot be written holds its
    // offset, and with it the consumer. From then on the offsets must not move.
    await waitFor('KPI partials waiting for InfluxDB', () => (service.store.outboxSize() > 0 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 2000));
    const held = await committed();
    expect(held).not.toBe(await endOffsets());
    let samples = 0;
    while (Date.now() - outageStarted < 20_000) {
      expect(await committed()).toBe(held);
      expect(service.store.outboxSize()).toBeGreaterThan(0);
      samples++;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(samples).toBeGreaterThanOrEqual(3);
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe('NOT_READY');

    servicesScript('up', 'influxdb');
    await waitForSettled(service, ref, 120_000);
    await waitFor('offsets committed past the outage', async () => ((await committed()) !== before ? true : undefined), 30_000);
    const expected = expectedKpis(ref);
    const actual = await serviceKpis(service);
    for (const name of Object.keys(expected)) expect(normalise(actual[name]), name).toEqual(normalise(expected[name]));
  });
});
