/**
 * Issue 10's done-when (docs/cluster.md): input topics with 6 partitions, a simulated mixed
 * stream with faults, three instances in one group; one is killed with SIGKILL at a seeded
 * random moment, a fourth starts, another stops gracefully. At the end every KPI (every
 * grouping, the whole range) read from InfluxDB, and from each surviving instance's API
 * (which answers from InfluxDB), equals what one uninterrupted instance computed from the
 * same topics (answering from its partials topic); the alert sets are identical, every
 * transition was announced on NATS, any instance lists all alerts, an ack through an
 * instance that does not own the alert ends acknowledged, and every answer an instance
 * gave conforms to its OpenAPI document.
 *
 * HUITIAN_CLUSTER_RATE_SCALE × 24 h of the mixed scenario (default 10: about 230,000
 * events; 1: about 23,000); HUITIAN_CLUSTER_SEED picks the kill moment and the victims.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxKpiStore } from '../../src/influx/influx-kpi-store.js';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { evaluateKpi } from '../../src/kpis/query.js';
import { createLogger } from '../../src/logger.js';
import { Rng } from '../../src/simulator/prng.js';
import { simulate } from '../../src/simulator/simulate.js';
import { openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { alertSet, ClusterHarness, DOMAINS, inputRecords, stable } from './cluster-helpers.js';
import { createInfluxDatabase, normalise, sendByTopic, uniqueSuffix, waitFor, type TopicMessage } from './helpers.js';

const services = inject('services');
const RATE = Number(process.env.HUITIAN_CLUSTER_RATE_SCALE ?? 10);
const SEED = Number(process.env.HUITIAN_CLUSTER_SEED ?? Date.now() % 100_000);
const START = Date.parse('2026-07-21T00:00:00+08:00');
const FROM = START - 3600_000;
const TO = START + 25 * 3600_000;

describe.skipIf(!services.available)('cluster: SIGKILL, join and graceful leave during a run', () => {
  const sfx = uniqueSuffix();
  const prefix = `itc${sfx}`;
  const topics = DOMAINS.map((d) => `${prefix}.${d}`);
  const database = `clu_${sfx}`;
  const cluster = new ClusterHarness(services.kafka, topics, `${prefix}.dlq`);
  // The members under test write KPIs to InfluxDB (and answer from it) and announce on NATS;
  // the reference answers from its partials topic and stays off NATS, so what was announced
  // is what the members announced.
  // Their KPI queries wait for InfluxDB as long as this process's own reads do: each of the
  // three reads every minute of every sensor at once, on a machine shared with other runs
  // (a survivor's 10 s default answered 503 once).
  const member = {
    HUITIAN_INFLUX_URL: services.influx,
    HUITIAN_INFLUX_BUCKET: `${database}/autogen`,
    HUITIAN_INFLUX_QUERY_TIMEOUT_S: '120',
    HUITIAN_NATS_URL: services.nats,
    HUITIAN_NATS_CONSUME: 'false',
  };
  const announced = new Set<string>();
  let producer: Producer;
  let records: TopicMessage[] = [];
  let closeNats: () => Promise<void> = async () => undefined;

  /** Every KPI read from InfluxDB by this process: the points every task wrote, merged over writers. */
  const influxKpis = async () => {
    const store = new InfluxKpiStore(
      { url: services.influx, token: '', org: 'huitian', bucket: `${database}/autogen`, writer: 'test', logger: createLogger('warn'), timeoutMs: 120_000 },
      new EmbeddedStore(openDatabase(mkdtempSync(join(tmpdir(), 'huitian-read-')))),
    );
    const out: Record<string, unknown> = {};
    for (const k of KPI_CATALOGUE) {
      for (const g of [undefined, ...k.groupTags]) {
        const grouping = k.kind === 'gauge' ? (g === undefined ? 'bucket' : 'bucket-and-tags') : 'tags';
        const { from: _f, to: _t, ...rest } = evaluateKpi(k, await store.partialRows(k.family, FROM, TO, grouping), FROM, TO, g === undefined ? [] : [g]);
        out[`${k.name}?${g ?? ''}`] = normalise(rest);
      }
    }
    return out;
  };

  beforeAll(async () => {
    const kafka = createKafka([services.kafka], prefix, createLogger('warn'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    records = inputRecords(simulate({ scenario: 'mixed', start: START, durationMs: 24 * 3600_000, seed: 7, rateScale: RATE, faults: 0.01 }), prefix);
    await createInfluxDatabase(services.influx, database);
    const nc = await connect({ servers: services.nats });
    const sub = nc.subscribe('huitian.alerts.>');
    void (async () => {
      for await (const m of sub) {
        const body = JSON.parse(new TextDecoder().decode(m.data)) as { version: number; alert: { id: string } };
        announced.add(`${body.alert.id}#${body.version}`);
      }
    })();
    closeNats = () => nc.drain();
  }, 300_000);

  afterAll(async () => {
    cluster.killAll();
    await producer?.disconnect();
    await closeNats();
  });

  it(`ends exactly like one uninterrupted instance (seed ${SEED})`, async () => {
    expect(records.length).toBeGreaterThan(RATE >= 10 ? 200_000 : 1000);
    const rng = new Rng(SEED, 'cluster-failover');
    const cut = Math.floor(records.length * 0.4);
    await sendByTopic(producer, records.slice(0, cut), 5000);
    const group = `itc-${sfx}`;
    const [a, b, c] = [cluster.start('a', group, member), cluster.start('b', group, member), cluster.start('c', group, member)];
    // The uninterrupted instance: a group of its own over the same topics, reading meanwhile
    // (what it computes depends only on the records, not on when it reads them).
    const ref = cluster.start('ref', `itr-${sfx}`);
    const rest = sendByTopic(producer, records.slice(cut), 5000);
    // SIGKILL one of the three at a seeded moment while they consume.
    await new Promise((r) => setTimeout(r, 3000 + rng.next() * 8000));
    const victim = [a, b, c][Math.floor(rng.next() * 3)]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const d = cluster.start('d', group, member);
    await rest;
    await new Promise((r) => setTimeout(r, 2000 + rng.next() * 5000));
    const leaver = [a, b, c].filter((i) => i !== victim)[Math.floor(rng.next() * 2)]!;
    // Stopped as a member that owns tasks (a rolling deploy), not while it is still starting.
    await waitFor(`${leaver.name} owns tasks`, async () => ((await cluster.tasks(leaver).catch(() => [])).length > 0 ? true : undefined), 120_000, 250);
    leaver.child.kill('SIGTERM');
    expect(await leaver.exited, leaver.log.slice(-3000)).toBe(0);
    const survivors = [a, b, c, d].filter((i) => i !== victim && i !== leaver);

    await waitFor('the cluster caught up', () => cluster.caughtUp(survivors, 25), 300_000, 500, () => cluster.detail());
    await waitFor('the reference caught up', () => cluster.caughtUp([ref], 25), 300_000, 500, () => cluster.detail());

    const expected = await stable(() => cluster.kpis(ref, FROM, TO));
    const expectedAlerts = await stable(async () => alertSet(await cluster.alerts(ref)));
    expect(expectedAlerts.length).toBeGreaterThan(0);
    // Read at once: each reads a day of points from InfluxDB (this process, and each survivor).
    const [fromInflux, ...fromSurvivors] = await Promise.all([influxKpis(), ...survivors.map((s) => cluster.kpis(s, FROM, TO))]);
    for (const key of Object.keys(expected)) expect(fromInflux![key], `InfluxDB ${key}`).toEqual(expected[key]);
    for (const [i, s] of survivors.entries()) {
      for (const key of Object.keys(expected)) expect(fromSurvivors[i]![key], `${s.name} ${key}`).toEqual(expected[key]);
      expect(alertSet(await cluster.alerts(s)), `${s.name} alerts`).toEqual(expectedAlerts);
    }

    // Every transition of every alert was announced at least once (id + version = history
    // length after it; `unacknowledged` comes in one transition with the `resolved` after it).
    const final = await cluster.alerts(survivors[0]!);
    const missing: string[] = [];
    for (const al of final.values()) {
      al.history.forEach((h, i) => {
        if (h.action !== 'unacknowledged' && !announced.has(`${al.id}#${i + 1}`)) missing.push(`${al.id}#${i + 1}`);
      });
    }
    expect(missing).toEqual([]);

    // An ack through an instance that does not own the alert ends acknowledged.
    const open = [...final.values()].find((al) => al.status === 'open');
    expect(open).toBeDefined();
    const { task } = await cluster.get<{ task: string }>(survivors[0]!, `/v1/alerts/${open!.id}`);
    // Ownership read from each survivor's /readyz in turn: a task moving between the reads
    // (a member's session lapsing under load) can show on both, so read until exactly one
    // survivor holds it and take another.
    const ackVia = await waitFor(
      `a survivor that does not own ${task}`,
      async () => {
        const owners = await Promise.all(survivors.map(async (s) => ({ s, tasks: (await cluster.tasks(s)).map((t) => t.task) })));
        return owners.filter((o) => o.tasks.includes(task)).length === 1 ? owners.find((o) => !o.tasks.includes(task))?.s : undefined;
      },
      60_000,
      500,
      () => cluster.detail(),
    );
    const res = await cluster.request(ackVia, 'POST', `/v1/alerts/${open!.id}/ack`, { by: '值班员张伟', note: 'via any instance' });
    expect([200, 202]).toContain(res.status);
    for (const s of survivors) {
      await waitFor(`${s.name} shows the ack`, async () => ((await cluster.get<{ status: string }>(s, `/v1/alerts/${open!.id}`)).status === 'acknowledged' ? true : undefined), 30_000);
    }
    expect(cluster.nonConforming).toEqual([]);
  }, 1_200_000);
});
