/**
 * The same path through NATS JetStream: a durable pull consumer on huitian.events.>,
 * KPIs in InfluxDB, alerts on NATS; a poison message is dead-lettered and terminated,
 * not redelivered; every message is acknowledged.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NatsReplayTarget } from '../../src/nats/nats-replay-target.js';
import type { Service } from '../../src/service.js';
import { fixtureStream, POISON_LINES } from './fixture-stream.js';
import { createInfluxDatabase, expectedKpis, normalise, referenceRun, serviceKpis, startTestService, uniqueSuffix, waitFor, waitForSettled } from './helpers.js';

const services = inject('services');

describe.skipIf(!services.available)('NATS JetStream in, InfluxDB and NATS out', () => {
  const sfx = uniqueSuffix();
  const stream = 'HUITIAN_EVENTS';
  const durable = `it-${sfx}`;
  const database = `it_js_${sfx}`;
  const dlqSubject = `it${sfx}.dlq`;
  const lines = fixtureStream(23).map((e) => e.line);
  let nc: NatsConnection;
  let service: Service;
  const dlq: Array<{ reason: string; payload: string }> = [];
  const alerts: string[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: services.nats });
    const jsm = await jetstreamManager(nc);
    // Streams may not overlap in subjects, so each run starts from an empty stream.
    await jsm.streams.delete(stream).catch(() => false);
    const dlqSub = nc.subscribe(dlqSubject);
    void (async () => {
      for await (const m of dlqSub) dlq.push({ reason: m.headers?.get('Huitian-Reason') ?? '', payload: m.string() });
    })();
    const alertSub = nc.subscribe('huitian.alerts.>');
    void (async () => {
      for await (const m of alertSub) {
        const body = m.json<{ action: string; alert: { id: string } }>();
        alerts.push(`${body.alert.id}:${body.action}`);
      }
    })();
    const target = await NatsReplayTarget.connect(new URL(services.nats));
    for (let i = 0; i < lines.length; i += 400) await target.send(lines.slice(i, i + 400));
    await target.send(POISON_LINES);
    await target.close();
    await createInfluxDatabase(services.influx, database);
    service = await startTestService({
      natsUrl: services.nats,
      natsStream: stream,
      natsConsumer: durable,
      dlqTopic: dlqSubject,
      influxUrl: services.influx,
      influxBucket: `${database}/autogen`,
      instanceId: `it-js-${sfx}`,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await nc?.drain();
  });

  it('computes every KPI in InfluxDB exactly as an uninterrupted run does', async () => {
    const ref = referenceRun(lines);
    await waitForSettled(service, ref);
    const expected = expectedKpis(ref);
    const actual = await serviceKpis(service);
    for (const name of Object.keys(expected)) expect(normalise(actual[name]), name).toEqual(normalise(expected[name]));
    const want = ref.alerts.map((c) => `${c.alert.id}:${c.action}`).sort();
    await waitFor('alerts on NATS', () => (alerts.length >= want.length ? true : undefined), 20_000);
    expect([...alerts].sort()).toEqual(want);
  });

  it('terminates poison messages after dead-lettering them, and acknowledges the rest', async () => {
    await waitFor('dead letters on NATS', () => (dlq.length >= 2 ? true : undefined), 20_000);
    expect(dlq.map((d) => d.reason).sort()[1]).toBe('data.depthCm: must be ≥ 0');
    expect(dlq.map((d) => d.payload)).toContain('this is not json');
    const jsm = await jetstreamManager(nc);
    const info = await waitFor(
      'consumer fully acknowledged',
      async () => {
        const i = await jsm.consumers.info(stream, durable);
        return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined;
      },
      20_000,
    );
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.stream_seq).toBe(lines.length + POISON_LINES.length);
  });
});
