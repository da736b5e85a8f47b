/**
 * DESIGN §6: a `kill -9` at any moment, then a restart, gives the same KPIs and alerts
 * as a run that never stopped. The service runs as a real child process (the built CLI)
 * consuming Kafka and writing InfluxDB; it is killed with SIGKILL while consuming, then
 * started again on the same data directory and consumer group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { createLogger } from '../../src/logger.js';
import { fixtureStream } from './fixture-stream.js';
import { createInfluxDatabase, createTopicsAndProducer, expectedKpis, fixtureRecord, normalise, referenceRun, sendByTopic, uniqueSuffix, waitFor, WIDE_FROM, WIDE_TO } from './helpers.js';

const services = inject('services');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe.skipIf(!services.available)('kill -9 mid-stream, then restart', () => {
  const sfx = uniqueSuffix();
  const topics = ['waterlogging', 'utility', 'parking', 'dispatch'].map((d) => `itk${sfx}.${d}`);
  const database = `it_kill_${sfx}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-kill-'));
  const events = fixtureStream(5, 1440);
  let producer: Producer;
  let port: number;
  let child: ChildProcess | undefined;
  let log = '';

  const env = () => ({
    ...process.env,
    HUITIAN_HOST: '127.0.0.1',
    HUITIAN_PORT: String(port),
    HUITIAN_DATA_DIR: dataDir,
    HUITIAN_TIME_MODE: 'replay',
    HUITIAN_LOG_LEVEL: 'info',
    HUITIAN_SNAPSHOT_INTERVAL_S: '1',
    HUITIAN_KAFKA_BROKERS: services.kafka,
    HUITIAN_KAFKA_MODE: 'single',
    HUITIAN_KAFKA_TOPICS: topics.join(','),
    HUITIAN_KAFKA_GROUP: `itk-${sfx}`,
    HUITIAN_DLQ_TOPIC: `itk${sfx}.dlq`,
    HUITIAN_INFLUX_URL: services.influx,
    HUITIAN_INFLUX_BUCKET: `${database}/autogen`,
    HUITIAN_INSTANCE_ID: `itk-${sfx}`,
  });
  const startChild = () => {
    child = spawn(process.execPath, ['bin/huitian.js', 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  };
  const stats = async (): Promise<{ accepted: number } | undefined> => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (res === undefined || !res.ok) return undefined;
    return ((await res.json()) as { stats: { accepted: number } }).stats;
  };
  const produce = (slice: typeof events) => sendByTopic(producer, slice.map((e) => fixtureRecord(`itk${sfx}`, e)));

  beforeAll(async () => {
    port = await freePort();
    await createInfluxDatabase(services.influx, database);
    const kafka = createKafka([services.kafka], `itk-${sfx}`, createLogger('warn'));
    producer = await createTopicsAndProducer(kafka, topics);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await producer?.disconnect();
  });

  it('ends with exactly the KPIs and alerts of an uninterrupted run', async () => {
    const lines = events.map((e) => e.line);
    const ref = referenceRun(lines);
    const cut = Math.floor(events.length * 0.4);
    await produce(events.slice(0, cut));
    startChild();
    await waitFor('first part consumed', async () => ((await stats())?.accepted ?? 0) > 1000 ? true : undefined, 60_000, 50);
    // Keep producing and kill while the consumer is busy with it.
    const second = produce(events.slice(cut, Math.floor(events.length * 0.7)));
    await waitFor('consumer busy with the second part', async () => ((await stats())?.accepted ?? 0) > cut ? true : undefined, 60_000, 20);
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const killedAt = log.length;
    await second;
    await produce(events.slice(Math.floor(events.length * 0.7)));

    startChild();
    await waitFor('everything consumed after the restart', async () => ((await stats())?.accepted ?? 0) === ref.accepted ? true : undefined, 120_000, 250);
    const range = `from=${encodeURIComponent(new Date(WIDE_FROM).toISOString())}&to=${encodeURIComponent(new Date(WIDE_TO).toISOString())}`;
    const expected = expectedKpis(ref);
    // Wait until InfluxDB has every partial (the outbox drains asynchronously).
    await waitFor(
      'KPIs in InfluxDB complete',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/kpis/fire_response_coverage_5min?${range}`);
        const body = (await res.json()) as { denominator: number };
        return body.denominator === expected.fire_response_coverage_5min!.denominator ? true : undefined;
      },
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const def of KPI_CATALOGUE) {
      for (const g of [undefined, ...def.groupTags]) {
        const key = g === undefined ? def.name : `${def.name}?groupBy=${g}`;
        const res = await fetch(`http://127.0.0.1:${port}/v1/kpis/${def.name}?${range}${g === undefined ? '' : `&groupBy=${g}`}`);
        const body = { ...((await res.json()) as object), from: WIDE_FROM, to: WIDE_TO };
        expect(normalise(body), key).toEqual(normalise(expected[key]));
      }
    }
    // The alert store holds exactly the alerts of the uninterrupted run, in their final state.
    const finalState = new Map<string, string>();
    for (const c of ref.alerts) finalState.set(c.alert.id, `${c.alert.status}:${c.alert.severity}`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/alerts?limit=500`);
    const items = ((await res.json()) as { items: Array<{ id: string; status: string; severity: string }> }).items;
    expect(new Map(items.map((a) => [a.id, `${a.status}:${a.severity}`]))).toEqual(finalState);
    expect(log.slice(killedAt)).toContain('engine state recovered');
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  });
});
