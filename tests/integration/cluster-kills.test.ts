/**
 * Issue 10's property run of the failover test's shape at a smaller size: while a mixed
 * stream with faults is produced over about a minute, three members of one group are
 * SIGKILLed at 10 seeded moments — one at a time, a replacement started at once, so kills
 * also land while the previous one's tasks are still moving or restoring — and one member
 * is stopped gracefully. At the end every KPI (every grouping, the whole range) and the
 * final alert set equal what one uninterrupted member computed from the same topics, and
 * no member found a KPI partial key changed after leaving its partial table.
 *
 * HUITIAN_CLUSTER_KILLS (default 10) and HUITIAN_CLUSTER_SEED pick the kills.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { createLogger } from '../../src/logger.js';
import { Rng } from '../../src/simulator/prng.js';
import { simulate } from '../../src/simulator/simulate.js';
import { alertSet, ClusterHarness, DOMAINS, inputRecords, stable, type Member } from './cluster-helpers.js';
import { sendByTopic, uniqueSuffix, waitFor, type TopicMessage } from './helpers.js';

const services = inject('services');
const KILLS = Number(process.env.HUITIAN_CLUSTER_KILLS ?? 10);
const SEED = Number(process.env.HUITIAN_CLUSTER_SEED ?? Date.now() % 100_000);
const START = Date.parse('2026-07-21T00:00:00+08:00');
const FROM = START - 3600_000;
const TO = START + 25 * 3600_000;

describe.skipIf(!services.available)(`cluster: ${KILLS} SIGKILLs at seeded moments`, () => {
  const sfx = uniqueSuffix();
  const prefix = `itk${sfx}`;
  const topics = DOMAINS.map((d) => `${prefix}.${d}`);
  const cluster = new ClusterHarness(services.kafka, topics, `${prefix}.dlq`);
  let producer: Producer;
  let records: TopicMessage[] = [];

  beforeAll(async () => {
    const kafka = createKafka([services.kafka], prefix, createLogger('warn'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    records = inputRecords(simulate({ scenario: 'mixed', start: START, durationMs: 24 * 3600_000, seed: 11, rateScale: 1.5, faults: 0.02 }), prefix);
  }, 120_000);

  afterAll(async () => {
    cluster.killAll();
    await producer?.disconnect();
  });

  it(`ends exactly like one uninterrupted member (seed ${SEED})`, async () => {
    const rng = new Rng(SEED, 'cluster-kills');
    const group = `itk-${sfx}`;
    let n = 0;
    const live: Member[] = [cluster.start(`m${n++}`, group), cluster.start(`m${n++}`, group), cluster.start(`m${n++}`, group)];
    // The uninterrupted member: a group of its own over the same topics, reading meanwhile.
    const ref = cluster.start('ref', `itkr-${sfx}`);
    // The stream is produced in 60 slices a second apart, so the kills land while members consume.
    const slices = 60;
    const per = Math.ceil(records.length / slices);
    const produced = (async () => {
      for (let i = 0; i < slices; i++) {
        await sendByTopic(producer, records.slice(i * per, (i + 1) * per), 2000);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const kills: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 2000 + rng.next() * 5000));
      const victim = live.splice(Math.floor(rng.next() * live.length), 1)[0]!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      kills.push(victim.name);
      live.push(cluster.start(`m${n++}`, group));
    }
    await produced;
    // One graceful leave of a member that owns tasks.
    const leaver = live.shift()!;
    await waitFor(`${leaver.name} owns tasks`, async () => ((await cluster.tasks(leaver).catch(() => [])).length > 0 ? true : undefined), 120_000, 250);
    leaver.child.kill('SIGTERM');
    expect(await leaver.exited, leaver.log.slice(-3000)).toBe(0);

    await waitFor('the cluster caught up', () => cluster.caughtUp(live, 25), 300_000, 500, () => cluster.detail());
    await waitFor('the reference caught up', () => cluster.caughtUp([ref], 25), 300_000, 500, () => cluster.detail());
    expect(kills).toHaveLength(KILLS);

    const expected = await stable(() => cluster.kpis(ref, FROM, TO));
    const expectedAlerts = await stable(async () => alertSet(await cluster.alerts(ref)));
    expect(expectedAlerts.length).toBeGreaterThan(0);
    for (const m of live) {
      const got = await stable(() => cluster.kpis(m, FROM, TO));
      for (const key of Object.keys(expected)) expect(got[key], `${m.name} ${key} (kills: ${kills.join(', ')})`).toEqual(expected[key]);
      expect(alertSet(await cluster.alerts(m)), `${m.name} alerts`).toEqual(expectedAlerts);
    }
    for (const m of cluster.members) expect(m.log.includes('changed after leaving the partial table'), `${m.name}: a partial key changed after leaving its table`).toBe(false);
    expect(cluster.nonConforming).toEqual([]);
  }, 900_000);
});
