/**
 * The NATS and Kafka receivers of alert delivery (issue 12) on the real brokers, and a
 * `cap` receiver: each notification arrives once per receiver with its idempotency key,
 * the CAP messages are schema-valid CAP 1.2.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config.js';
import type { Service } from '../../src/service.js';
import { cloudEvent, HLG, waterlogging } from '../helpers/events.js';
import { TestReceiver } from '../helpers/receiver.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';
import { startTestService, uniqueSuffix, waitFor } from './helpers.js';

useServiceCleanup();
const services = inject('services');

describe.skipIf(!services.available)('notification receivers on real NATS and Kafka, and a CAP endpoint', () => {
  const sfx = uniqueSuffix();
  const subject = `it${sfx}.notifications`;
  const topic = `it${sfx}.notifications`;
  let nc: NatsConnection;
  let consumer: Consumer;
  let service: Service;
  const capReceiver = new TestReceiver();
  const natsGot: Array<{ key: string; body: any }> = [];
  const kafkaGot: Array<{ key: string; body: any }> = [];

  beforeAll(async () => {
    nc = await connect({ servers: services.nats });
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) natsGot.push({ key: m.headers?.get('Idempotency-Key') ?? '', body: m.json() });
    })();
    const kafka = new Kafka({ brokers: [services.kafka], clientId: `it-${sfx}`, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: `it${sfx}.in`, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    consumer = kafka.consumer({ groupId: `it-${sfx}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void kafkaGot.push({ key: message.key?.toString() ?? '', body: JSON.parse(message.value!.toString()) }) });
    await capReceiver.start();
    const file = join(tempDir('huitian-it-cfg-'), 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        notifications: {
          receivers: { bus: { type: 'nats', subject }, log: { type: 'kafka', topic }, warning: { type: 'cap', url: capReceiver.url('/cap') } },
          routes: [{ name: 'all', receivers: ['bus', 'log', 'warning'], groupWaitSeconds: 0 }],
        },
      }),
    );
    // Single mode: cluster mode has no notification stage yet (docs/cluster.md §9).
    service = await startTestService({ natsUrl: services.nats, natsConsume: false, kafkaBrokers: services.kafka, kafkaTopics: `it${sfx}.in`, kafkaMode: 'single', config: file } as ConfigOverrides);
  });

  afterAll(async () => {
    await service?.stop();
    await consumer?.disconnect();
    await nc?.drain();
    await capReceiver.stop();
  });

  it('delivers every transition to each receiver, keyed by alert id and version', async () => {
    const events = [waterlogging('a', 0, 'P1', 20, HLG), waterlogging('b', 30, 'P1', 45, HLG), waterlogging('c', 60, 'P1', 2, HLG)];
    events.push(cloudEvent('huitian.utility.reading', 'clock', 200, { lineId: 'CLOCK', network: 'water', metric: 'pressure_mpa', value: 0.3 }, '/clock'));
    const res = await service.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map((e) => JSON.stringify(e)).join('\n') });
    expect(res.statusCode).toBe(202);
    await waitFor('three deliveries on each receiver', () => (natsGot.length >= 3 && kafkaGot.length >= 3 && capReceiver.accepted().length >= 3 ? true : undefined), 60_000);
    const id = (await service.app.inject({ method: 'GET', url: '/v1/alerts?entityId=P1' })).json().items[0].id;
    const expected = [`${id}:1`, `${id}:2`, `${id}:4`]; // the resolve nobody acknowledged adds two entries
    expect(natsGot.map((m) => m.key)).toEqual(expected);
    expect(kafkaGot.map((m) => m.key)).toEqual(expected);
    expect(natsGot.map((m) => m.body.alerts[0].action)).toEqual(['opened', 'escalated', 'resolved']);
    // The same notifications, each receiver its own delivery.
    expect(kafkaGot.map((m) => [m.body.notificationId, m.body.receiver])).toEqual(natsGot.map((m) => [m.body.notificationId, 'log']));
    expect(new Set([...natsGot, ...kafkaGot].map((m) => m.body.deliveryId)).size).toBe(6);
    const cap = capReceiver.accepted();
    expect(cap.map((c) => c.headers['content-type'])).toEqual(Array(3).fill('application/cap+xml; charset=utf-8'));
    expect(cap.map((c) => /<msgType>(\w+)<\/msgType>/.exec(c.body)?.[1])).toEqual(['Alert', 'Update', 'Cancel']);
    const dir = tempDir('huitian-it-cap-');
    const files = cap.map((c, i) => {
      const f = join(dir, `${i}.xml`);
      writeFileSync(f, c.body);
      return f;
    });
    execFileSync('xmllint', ['--noout', '--schema', 'schemas/cap/CAP-v1.2.xsd', ...files], { stdio: 'pipe' });
    // A receiver may hold the message before the service has heard back (a NATS flush, a
    // Kafka ack, an HTTP answer) and marked the delivery done.
    const states = () => service.app.inject({ method: 'GET', url: '/v1/notifications' }).then((r) => r.json().items.map((d: { state: string }) => d.state) as string[]);
    await waitFor('every delivery marked delivered', async () => ((await states()).every((s) => s === 'delivered') ? true : undefined), 30_000);
    expect(await states()).toEqual(Array(9).fill('delivered'));
  });
});
