/**
 * Kafka source (DESIGN §6): a consumer group over the configured topics, consuming in
 * batches. A batch's offset is committed only after the state changes of its records
 * are durable — committed to the embedded store, written to the external KPI store when
 * there is one, and its invalid records forwarded to the dead-letter topic. So a
 * restart re-reads at most the batches in flight, and dedup absorbs them.
 *
 * Each partition is its own event-time channel (see time/watermark.ts), declared when
 * it is assigned so that its backlog holds the watermark back until read. Partitions
 * stop holding time back only when the whole assignment is read up to the brokers'
 * high-water marks (checked with a fresh offset request): marking one partition idle
 * as soon as it alone caught up would let a busier partition's backlog push the
 * watermark past events the producer has yet to write to the quiet one. A revoked
 * partition is forgotten. While the KPI store is down the batch waits, heartbeating, so the group
 * keeps the partition and nothing further is fetched: backpressure with bounded memory.
 */
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeRecord } from '../events/decode-record.js';
import type { Candidate, Pipeline, Rejection } from '../pipeline/pipeline.js';
import type { EventSource } from '../service.js';

export interface KafkaSourceOptions {
  kafka: Kafka;
  topics: readonly string[];
  groupId: string;
  pipeline: Pipeline;
  logger: Logger;
  /** Partitions of topics this source creates when they are missing. */
  partitions?: number;
}

const RETRY_MAX_MS = 5_000;

export function headersOf(h: IHeaders | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (h === undefined) return out;
  for (const [k, v] of Object.entries(h)) {
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

export function kafkaChannel(topic: string, partition: number): string {
  return `kafka:${topic}:${partition}`;
}

export class KafkaSource implements EventSource {
  readonly name = 'kafka';
  private consumer: Consumer | undefined;
  private trouble: string | null = 'not started';
  private readonly log: Logger;
  private assigned = new Set<string>();
  private stopping = false;
  private admin: Admin | undefined;
  /** Next offset to read and high-water mark, per assigned partition (channel). */
  private readonly positions = new Map<string, bigint>();
  private readonly highs = new Map<string, bigint>();
  /** Channels currently marked idle in the engine. */
  private readonly idle = new Set<string>();
  private checking: Promise<void> | null = null;
  private recheck = false;

  constructor(private readonly options: KafkaSourceOptions) {
    this.log = options.logger.child({ component: 'kafka-source' });
  }

  problem(): string | null {
    return this.trouble;
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId } = this.options;
    this.admin = kafka.admin();
    await this.admin.connect();
    await this.ensureTopics();
    const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: 1024 * 1024 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const now = new Set<string>();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const p of partitions) now.add(kafkaChannel(topic, p));
      }
      const pipeline = this.options.pipeline;
      // A partition another member took no longer holds our watermark back.
      for (const channel of this.assigned) {
        if (!now.has(channel)) {
          pipeline.removeChannel(channel);
          this.positions.delete(channel);
          this.highs.delete(channel);
          this.idle.delete(channel);
        }
      }
      for (const channel of now) if (!this.assigned.has(channel)) pipeline.registerChannel(channel);
      this.assigned = now;
      this.trouble = null;
      this.log.info({ assigned: [...now] }, 'kafka partitions assigned');
      void this.checkCaughtUp(true);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.trouble = `consumer crashed: ${e.payload.error.message}${e.payload.restart ? ' (restarting)' : ''}`;
      this.log.error({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      if (!this.stopping) this.trouble = 'disconnected from the brokers';
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.log.info({ topics, groupId }, 'kafka source started');
  }

  private async ensureTopics(): Promise<void> {
    const admin = this.admin!;
    {
      const existing = new Set(await admin.listTopics());
      const missing = this.options.topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions ?? 3 })),
          waitForLeaders: true,
        });
        this.log.info({ topics: missing }, 'created missing kafka topics');
      }
    }
  }

  /**
   * When every assigned partition has been read up to its high-water mark — confirmed
   * with the brokers, not from possibly stale batch metadata — the partitions stop
   * holding the watermark back. `fromGroup` also reads the group's committed offsets
   * (just after an assignment, before any batch arrived).
   */
  private checkCaughtUp(fromGroup = false): Promise<void> {
    if (this.checking !== null) {
      // A check already running may have read positions from before this batch.
      this.recheck = true;
      return this.checking;
    }
    const run = async () => {
      let group = fromGroup;
      try {
        do {
          this.recheck = false;
          await this.refreshAndMark(group);
          group = false;
        } while (this.recheck && !this.stopping);
      } catch (err) {
        this.log.warn({ err }, 'could not read partition offsets; partitions keep holding event time');
      } finally {
        // Cleared in the same turn as the last recheck test, so a batch finishing
        // afterwards starts a new check instead of setting a flag nobody reads.
        this.checking = null;
      }
    };
    this.checking = run();
    return this.checking;
  }

  private async refreshAndMark(fromGroup: boolean): Promise<void> {
    const admin = this.admin;
    if (admin === undefined || this.assigned.size === 0) return;
    const topics = [...new Set([...this.assigned].map((c) => c.split(':')[1]!))];
    if (fromGroup) {
      const committed = await admin.fetchOffsets({ groupId: this.options.groupId, topics });
      for (const t of committed) {
        for (const p of t.partitions) {
          const channel = kafkaChannel(t.topic, p.partition);
          if (this.assigned.has(channel) && p.offset !== '-1' && !this.positions.has(channel)) this.positions.set(channel, BigInt(p.offset));
        }
      }
    }
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const channel = kafkaChannel(topic, p.partition);
        if (!this.assigned.has(channel)) continue;
        this.highs.set(channel, BigInt(p.high));
        // Nothing committed and nothing read yet: reading starts at the earliest offset.
        if (!this.positions.has(channel)) this.positions.set(channel, BigInt(p.low));
      }
    }
    for (const channel of this.assigned) {
      const position = this.positions.get(channel);
      const high = this.highs.get(channel);
      if (position === undefined || high === undefined || position < high) {
        this.log.debug({ channel, position: position?.toString(), high: high?.toString() }, 'partition not caught up yet');
        return;
      }
    }
    for (const channel of this.assigned) {
      if (this.idle.has(channel)) continue;
      this.idle.add(channel);
      this.options.pipeline.markIdle(channel);
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const channel = kafkaChannel(batch.topic, batch.partition);
    const candidates: Candidate[] = [];
    const rejections: Rejection[] = [];
    batch.messages.forEach((m, index) => {
      const raw = m.value === null ? '' : m.value.toString('utf8');
      // Kept with a refused record so its dead letter says where it is in the input topic.
      const source = { key: m.key === null ? null : m.key.toString('utf8'), offset: m.offset };
      if (raw === '') {
        rejections.push({ index, id: null, type: null, reason: '(event): empty record', raw, source });
        return;
      }
      const decoded = decodeRecord(raw, headersOf(m.headers), 'ce_');
      if (decoded.ok) candidates.push({ index, event: decoded.event, raw, source });
      else rejections.push({ index, id: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, raw, source });
    });
    const last = batch.lastOffset();
    if (this.idle.size > 0) {
      // New records after the assignment was caught up: the other partitions may have
      // new records too, older than this batch's newest, so they all hold event time
      // again until the assignment is read to the end once more.
      this.options.pipeline.activateChannels([...this.idle]);
      this.idle.clear();
    }
    this.options.pipeline.ingest(channel, candidates, rejections);
    this.positions.set(channel, BigInt(last) + 1n);
    this.highs.set(channel, BigInt(batch.highWatermark));
    // Checked before the commit: when this batch completes the assignment, the idle
    // marks let the watermark pass its records, and the KPI partials that come of it
    // must be written before its offset is committed.
    if (BigInt(last) + 1n >= BigInt(batch.highWatermark)) await this.checkCaughtUp();
    if (!(await this.untilDurable(heartbeat, isRunning, isStale))) return;
    resolveOffset(last);
    this.log.debug({ channel, last, highWatermark: batch.highWatermark, records: batch.messages.length }, 'kafka batch durable');
    await this.consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await heartbeat();
  }

  /**
   * Waits until the batch's effects are durable everywhere they go. Returns false when
   * the partition was revoked or the consumer stops meanwhile: its offset must then not
   * be committed, and whoever owns it next re-reads from the last commit.
   */
  private async untilDurable(heartbeat: () => Promise<void>, isRunning: () => boolean, isStale: () => boolean): Promise<boolean> {
    const pipeline = this.options.pipeline;
    let wait = 250;
    for (;;) {
      if (!isRunning() || isStale()) return false;
      try {
        if (pipeline.hasKpiSink) await pipeline.flushSink();
        await pipeline.forwardsSettled();
        if (this.trouble?.startsWith('KPI store') === true) this.trouble = null;
        return true;
      } catch (err) {
        this.trouble = `KPI store unavailable, holding offsets: ${(err as Error).message}`;
        this.log.warn({ err, retryInMs: wait }, 'KPI store write failed; holding the offset and retrying');
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, RETRY_MAX_MS);
        await heartbeat().catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
    await this.checking;
    await this.admin?.disconnect();
    this.trouble = 'stopped';
  }
}
