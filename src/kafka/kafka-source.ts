/**
 * Kafka source (DESIGN §6): a consumer group over the configured topics, consuming in
 * batches. A batch's offset is committed only after the state changes of its records
 * are durable — committed to the embedded store, written to the external KPI store when
 * there is one, and its invalid records forwarded to the dead-letter topic. So a
 * restart re-reads at most the batches in flight, and dedup absorbs them.
 *
 * Each partition is its own event-time channel (see time/watermark.ts); a partition
 * read up to its high-water mark stops holding the watermark back, and a revoked one is
 * forgotten. While the KPI store is down the batch waits, heartbeating, so the group
 * keeps the partition and nothing further is fetched: backpressure with bounded memory.
 */
import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
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

  constructor(private readonly options: KafkaSourceOptions) {
    this.log = options.logger.child({ component: 'kafka-source' });
  }

  problem(): string | null {
    return this.trouble;
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId } = this.options;
    await this.ensureTopics();
    const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: 1024 * 1024 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const now = new Set<string>();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const p of partitions) now.add(kafkaChannel(topic, p));
      }
      // A partition another member took no longer holds our watermark back.
      for (const channel of this.assigned) if (!now.has(channel)) this.options.pipeline.removeChannel(channel);
      this.assigned = now;
      this.trouble = null;
      this.log.info({ assigned: [...now] }, 'kafka partitions assigned');
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
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = this.options.topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions ?? 3 })),
          waitForLeaders: true,
        });
        this.log.info({ topics: missing }, 'created missing kafka topics');
      }
    } finally {
      await admin.disconnect();
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const channel = kafkaChannel(batch.topic, batch.partition);
    const candidates: Candidate[] = [];
    const rejections: Rejection[] = [];
    batch.messages.forEach((m, index) => {
      const raw = m.value === null ? '' : m.value.toString('utf8');
      if (raw === '') {
        rejections.push({ index, id: null, type: null, reason: '(event): empty record', raw });
        return;
      }
      const decoded = decodeRecord(raw, headersOf(m.headers), 'ce_');
      if (decoded.ok) candidates.push({ index, event: decoded.event, raw });
      else rejections.push({ index, id: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, raw });
    });
    const last = batch.lastOffset();
    const caughtUp = BigInt(last) + 1n >= BigInt(batch.highWatermark);
    this.options.pipeline.ingest(channel, candidates, rejections, { idleAfter: caughtUp });
    if (!(await this.untilDurable(heartbeat, isRunning, isStale))) return;
    resolveOffset(last);
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
    this.trouble = 'stopped';
  }
}
