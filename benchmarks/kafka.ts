/**
 * Cluster mode's figures (issue 10), on a real Kafka:
 *
 * - `kafka_eps`: the benchmark stream in input topics (one per domain, 6 partitions each,
 *   key = entity, as producers write them), consumed by one instance in cluster mode (24
 *   tasks and the global stage), from its first record until every task has applied its
 *   partition to the end and every output (KPI partials to the partials topic, alerts,
 *   minute reports, dead letters) is acknowledged by Kafka;
 * - `kafka_floor_eps`: in the same run, a bare kafkajs consumer with the same consumer
 *   settings doing only `JSON.parse` of the same records, first to last record;
 * - `kafka_ratio` = `kafka_eps ÷ kafka_floor_eps`;
 * - `failover_s`: two instances in a group of their own have caught up; while a producer
 *   adds a continuation of the stream, the one owning more tasks is SIGKILLed (the producer
 *   stops then); from the kill until every task it owned is active on the other with lag 0.
 *   Every setting is the service's default (session timeout 10 s, snapshot interval 30 s);
 * - `twoInstances` (a detail): how fast those two instances read the stream together
 *   before the kill, against one instance: what a second event loop gives on this machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Producer } from 'kafkajs';
import { GLOBAL_TASK } from '../src/cluster/global-task.js';
import { clusterTopicsOf } from '../src/cluster/topics.js';
import { loadConfig } from '../src/config.js';
import { createKafka } from '../src/kafka/kafka-client.js';
import { createLogger } from '../src/logger.js';
import { DOMAINS, inputRecords, type InputRecord } from '../scripts/cluster-input.js';
import { ask, exited, forkChild, hasExited, waitFor } from './child.js';
import { cpuWindow, describeCpu, ratioBound, type CpuMark, type KafkaCpu } from './cpu-time.js';
import { forEachLine, type Batch } from './stream.js';

export const PARTITIONS = 6;

export interface KafkaResult {
  kafka_eps: number;
  kafka_floor_eps: number;
  kafka_ratio: number;
  failover_s: number;
  records: number;
  partitions: number;
  produceSeconds: number;
  seconds: { instance: number; floor: number };
  instanceRssMb: number;
  /** Records the one instance wrote to its partials topic. */
  partialRecords: number;
  floorMalformed: number;
  /**
   * CPU over each window (cpu-time.ts): the instance's process and the floor's, and the
   * whole machine (the broker too) during each; `ratioBound` is the kafka_ratio the instance
   * could reach at its CPU per record with every core busy (more threads, no overhead).
   */
  cpu: KafkaCpu;
  /**
   * Two instances in one group on the same machine (the failover run's catch-up): `eps` from
   * the first record either applied until both have every task at lag 0 and every output
   * acknowledged (the rebalance when the second joins included); `sharedEps` the same end
   * from the first poll at which both owned tasks, all restored, over the records left then;
   * `ratio` and `speedup` (over one instance) of `sharedEps`. What a second event loop gives
   * here, measured rather than estimated. Null without the failover run.
   */
  twoInstances: { eps: number; seconds: number; sharedEps: number; sharedSeconds: number; sharedRecords: number; ratio: number; speedup: number } | null;
  failover: {
    /** Tasks the killed instance owned. */
    tasks: number;
    /** Kill → the first of them assigned to the survivor (the session timeout, then the rebalance). */
    assignedS: number;
    /** Kill → all of them restored from their checkpoints. */
    restoredS: number;
    /** Lag of those tasks on the survivor when it first showed them all restored: what it had to re-read. */
    lagAtRestore: number;
    continuationEvents: number;
    sessionTimeoutS: number;
  };
}

export interface KafkaOptions {
  brokers: string;
  batches: readonly Batch[];
  /** Lines produced during the failover run, after the stream (a later stretch of it). */
  continuation: readonly string[];
  /** Continuation records per second while the failover run waits for the kill. */
  continuationEps: number;
  /** Seconds of continuation before the kill. */
  killAfterS: number;
  nodeFlags: string[];
  progress: (line: string) => void;
  /** Off: no failover run (failover_s NaN); to profile the one instance alone. */
  failover?: boolean;
}

async function send(producer: Producer, rows: readonly InputRecord[]): Promise<void> {
  const byTopic = new Map<string, Array<{ key: string | null; value: string }>>();
  for (const { topic, key, value } of rows) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push({ key, value });
  }
  await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

type Status = { tasks: Array<{ task: string; state: string; next: string | null; lag: number | null }>; firstRecordAt: number | undefined; rssMb: number };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureKafka(o: KafkaOptions): Promise<KafkaResult> {
  const say = o.progress;
  const sfx = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const prefix = `bench${sfx}`;
  const topics = DOMAINS.map((d) => `${prefix}.${d}`);
  const dlq = `${prefix}.dlq`;
  const inputTasks = topics.length * PARTITIONS;
  const kafka = createKafka([o.brokers], `huitian-bench-${sfx}`, createLogger('error'));
  const admin = kafka.admin();
  await admin.connect();
  const children: ChildProcess[] = [];
  const killed = new Set<ChildProcess>();
  const dirs: string[] = [];
  const member = (group: string, name: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'huitian-bench-kafka-'));
    dirs.push(dir);
    const child = forkChild('kafka-member-child', { args: [dir, o.brokers, group, topics.join(','), dlq, name], nodeFlags: o.nodeFlags });
    children.push(child);
    // How each member ended but the failover's victim, so a member lost mid-run is named in the output.
    child.once('exit', (code, signal) => {
      if (!killed.has(child)) say(`kafka: member ${name} exited (code ${code}, signal ${signal})`);
    });
    return child;
  };
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.createTopics({ topics: [...topics, dlq].map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });
    await producer.connect();

    // The stream into the input topics.
    let records = 0;
    const produceStart = now();
    for (const b of o.batches) {
      const lines: string[] = [];
      forEachLine(b.text, (l) => lines.push(l));
      await send(producer, inputRecords(lines, prefix));
      records += lines.length;
    }
    const produceSeconds = (now() - produceStart) / 1000;
    say(`kafka: ${records} records in ${topics.length} topics × ${PARTITIONS} partitions, produced in ${produceSeconds.toFixed(1)} s`);

    // The floor: JSON.parse only.
    const floor = forkChild('kafka-floor-child', { args: [o.brokers, `${prefix}-floor`, topics.join(','), String(records)], nodeFlags: o.nodeFlags });
    children.push(floor);
    type Marks = { from: CpuMark; to: CpuMark } | undefined;
    const f = await waitFor<{ firstRecordAt: number; lastRecordAt: number; records: number; malformed: number; cpu: Marks }>(floor, 'done');
    await ask(floor, { type: 'stop' }).catch(() => undefined);
    await exited(floor);
    const floorSeconds = (f.lastRecordAt - f.firstRecordAt) / 1000;
    say(`kafka: bare consumer parsed ${f.records} records in ${floorSeconds.toFixed(1)} s`);

    // One instance, every KPI partial durable.
    const one = member(`${prefix}-one`, 'one');
    await waitFor(one, 'ready');
    const done = await ask<{ at: number; firstRecordAt: number; cpu: Marks }>(one, { type: 'caught-up', inputTasks });
    const instanceSeconds = (done.at - done.firstRecordAt) / 1000;
    const oneStatus = await ask<Status>(one, { type: 'status' });
    // Records the instance wrote to its partials topic (bucket records, docs/cluster.md §7).
    const partialRecords = (await admin.fetchTopicOffsets(clusterTopicsOf(`${prefix}-one`).partials)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    await ask(one, { type: 'stop' }).catch(() => undefined);
    await exited(one);
    say(`kafka: one instance applied ${records} records, outputs durable, in ${instanceSeconds.toFixed(1)} s`);

    const kafkaEps = Math.round(records / instanceSeconds);
    const floorEps = Math.round(records / floorSeconds);
    const cores = availableParallelism();
    const instanceCpu = done.cpu === undefined ? null : cpuWindow(done.cpu.from, done.cpu.to, records);
    const floorCpu = f.cpu === undefined ? null : cpuWindow(f.cpu.from, f.cpu.to, f.records);
    const cpu: KafkaCpu = { cores, instance: instanceCpu, floor: floorCpu, ratioBound: instanceCpu === null ? null : ratioBound(instanceCpu, floorEps, cores) };
    const cpuLine = describeCpu(cpu);
    if (cpuLine !== undefined) say(cpuLine);
    const figures = {
      kafka_eps: kafkaEps,
      kafka_floor_eps: floorEps,
      kafka_ratio: Math.round((kafkaEps / floorEps) * 1000) / 1000,
      records,
      partitions: inputTasks,
      produceSeconds: Math.round(produceSeconds * 10) / 10,
      seconds: { instance: Math.round(instanceSeconds * 100) / 100, floor: Math.round(floorSeconds * 100) / 100 },
      instanceRssMb: oneStatus.rssMb,
      partialRecords,
      floorMalformed: f.malformed,
      cpu,
    };
    const sessionTimeoutS = loadConfig({}).kafkaSessionTimeoutS;
    if (o.failover === false) {
      return { ...figures, twoInstances: null, failover_s: Number.NaN, failover: { tasks: 0, assignedS: Number.NaN, restoredS: Number.NaN, lagAtRestore: 0, continuationEvents: 0, sessionTimeoutS } };
    }

    // Failover: two instances caught up, a continuation flowing, the owner of more tasks killed.
    say('kafka: failover — two instances catching up …');
    const group = `${prefix}-ha`;
    const a = member(group, 'a');
    const b = member(group, 'b');
    await Promise.all([waitFor(a, 'ready'), waitFor(b, 'ready')]);
    const statuses = async () => Promise.all([ask<Status>(a, { type: 'status' }), ask<Status>(b, { type: 'status' })]);
    // Their catch-up is also the figure of two instances on this machine (`twoInstances`).
    let firstRecordAt = Number.POSITIVE_INFINITY;
    // From the first poll at which both own tasks, all restored: what they had applied then.
    let shared: { at: number; applied: number } | undefined;
    for (;;) {
      const polledAt = now();
      const both = await statuses();
      const all = both.flatMap((s) => s.tasks);
      const inputs = all.filter((t) => t.task !== GLOBAL_TASK);
      if (shared === undefined && both.every((s) => s.tasks.some((t) => t.task !== GLOBAL_TASK)) && inputs.length === inputTasks && inputs.every((t) => t.state === 'active')) {
        shared = { at: polledAt, applied: inputs.reduce((n, t) => n + Number(t.next ?? 0), 0) };
      }
      if (all.length === inputTasks + 1 && all.every((t) => t.state === 'active' && t.lag === 0)) {
        for (const s of both) if (s.firstRecordAt !== undefined) firstRecordAt = Math.min(firstRecordAt, s.firstRecordAt);
        break;
      }
      await sleep(50);
    }
    const settled = await Promise.all([ask<{ at: number }>(a, { type: 'settled' }), ask<{ at: number }>(b, { type: 'settled' })]);
    const endAt = Math.max(...settled.map((s) => s.at));
    const twoSeconds = (endAt - firstRecordAt) / 1000;
    const twoEps = Math.round(records / twoSeconds);
    const sharedSeconds = shared === undefined ? Number.NaN : (endAt - shared.at) / 1000;
    const sharedEps = shared === undefined ? Number.NaN : Math.round((records - shared.applied) / sharedSeconds);
    const twoInstances = {
      eps: twoEps,
      seconds: Math.round(twoSeconds * 100) / 100,
      sharedEps,
      sharedSeconds: Math.round(sharedSeconds * 100) / 100,
      sharedRecords: shared === undefined ? 0 : records - shared.applied,
      ratio: Math.round((sharedEps / floorEps) * 1000) / 1000,
      speedup: Math.round((sharedEps / kafkaEps) * 100) / 100,
    };
    say(
      `kafka: two instances in one group applied ${records} records, outputs durable, in ${twoSeconds.toFixed(1)} s (${twoEps} /s); ` +
        `once both owned tasks: ${twoInstances.sharedRecords} records in ${sharedSeconds.toFixed(1)} s, ${sharedEps} /s, ${twoInstances.speedup}× one instance`,
    );
    const rows = inputRecords(o.continuation, prefix);
    let stopContinuation = false;
    let sent = 0;
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((o.continuationEps * tickMs) / 1000));
    const flowing = (async () => {
      while (!stopContinuation && sent < rows.length) {
        const t = now();
        await send(producer, rows.slice(sent, sent + perTick));
        sent = Math.min(rows.length, sent + perTick);
        await sleep(Math.max(0, tickMs - (now() - t)));
      }
    })();
    await sleep(o.killAfterS * 1000);
    const [sa, sb] = await statuses();
    const [victim, survivor, owned] = sa!.tasks.length >= sb!.tasks.length ? [a, b, sa!.tasks] : [b, a, sb!.tasks];
    const victimTasks = owned.map((t) => t.task);
    killed.add(victim);
    victim.kill('SIGKILL');
    const killedAt = now();
    stopContinuation = true;
    await flowing;
    await exited(victim);
    // What the survivor must read of those partitions: from their checkpoints to the end now.
    let assignedAt: number | undefined;
    let restoredAt: number | undefined;
    let caughtAt: number | undefined;
    let lagAtRestore: number | undefined;
    while (caughtAt === undefined) {
      const s = await ask<Status>(survivor, { type: 'status' });
      const mine = s.tasks.filter((t) => victimTasks.includes(t.task));
      if (mine.length > 0) assignedAt ??= now();
      if (mine.length === victimTasks.length && mine.every((t) => t.state === 'active')) {
        restoredAt ??= now();
        lagAtRestore ??= mine.reduce((n, t) => n + (t.lag ?? 0), 0);
        if (mine.every((t) => t.lag === 0)) caughtAt = now();
      }
      if (now() - killedAt > 300_000) throw new Error(`failover: the survivor did not take over within 300 s: ${JSON.stringify(s.tasks)}`);
      if (caughtAt === undefined) await sleep(50);
    }
    await ask(survivor, { type: 'stop' }).catch(() => undefined);
    await exited(survivor);
    const failoverS = (caughtAt - killedAt) / 1000;
    say(`kafka: failover of ${victimTasks.length} tasks in ${failoverS.toFixed(1)} s (assigned after ${((assignedAt! - killedAt) / 1000).toFixed(1)} s)`);

    return {
      ...figures,
      twoInstances,
      failover_s: Math.round(failoverS * 10) / 10,
      failover: {
        tasks: victimTasks.length,
        assignedS: Math.round(((assignedAt! - killedAt) / 1000) * 10) / 10,
        restoredS: Math.round(((restoredAt! - killedAt) / 1000) * 10) / 10,
        lagAtRestore: lagAtRestore ?? 0,
        continuationEvents: sent,
        sessionTimeoutS,
      },
    };
  } finally {
    for (const c of children) if (!hasExited(c)) c.kill('SIGKILL');
    await producer.disconnect().catch(() => undefined);
    const internal = [`${prefix}-one`, `${prefix}-ha`].flatMap((g) => Object.values(clusterTopicsOf(g)));
    const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
    await admin.deleteTopics({ topics: [...topics, dlq, ...internal].filter((t) => existing.has(t)) }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
