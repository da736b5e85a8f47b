/**
 * NATS JetStream source (DESIGN §6): a durable pull consumer on the events stream
 * (subjects huitian.events.>). A fetched batch goes through the pipeline; each message
 * is acknowledged only after its effects are durable. A poison message — one that can
 * never decode — is dead-lettered with its reason and terminated, so it is not
 * redelivered forever.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeRecord } from '../events/decode-record.js';
import type { Candidate, Pipeline, Rejection } from '../pipeline/pipeline.js';
import type { EventSource } from '../service.js';
import { EVENTS_SUBJECTS, ensureEventStream } from './nats-connection.js';

export interface NatsSourceOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  pipeline: Pipeline;
  /**
   * Cluster mode (docs/cluster.md §6): instead of the local engine, the batch goes into
   * the Kafka input topics; messages are acked once Kafka has them.
   */
  bridge?: KafkaBridge;
  logger: Logger;
  batchSize?: number;
}

/** Where a cluster member puts a JetStream batch (ClusterRuntime). */
export interface KafkaBridge {
  /** Stores and forwards the refused records; never throws (they stay in the dead-letter store). */
  deadLetter(channel: string, rejections: readonly Rejection[]): Promise<void>;
  /** Produces the valid events to their input topics; throws while Kafka does not take them. Returns those no topic carries. */
  produce(candidates: readonly Candidate[]): Promise<Rejection[]>;
}

/**
 * One JetStream batch into Kafka: the refused records dead-lettered once, the valid ones
 * produced until Kafka takes them (a retry used to dead-letter the refused ones again).
 */
export async function bridgeBatch(
  bridge: KafkaBridge,
  channel: string,
  candidates: readonly Candidate[],
  rejections: readonly Rejection[],
  onRetry: (err: Error, waitMs: number) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  if (rejections.length > 0) await bridge.deadLetter(channel, rejections);
  if (candidates.length === 0) return;
  let wait = 250;
  for (;;) {
    try {
      const unrouted = await bridge.produce(candidates);
      if (unrouted.length > 0) await bridge.deadLetter(channel, unrouted);
      return;
    } catch (err) {
      onRetry(err as Error, wait);
      await sleep(wait);
      wait = Math.min(wait * 2, 5000);
    }
  }
}

const ACK_WAIT_NS = 30 * 1_000_000_000;
const decoder = new TextDecoder();

function headersOf(m: JsMsg): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (m.headers === undefined) return out;
  for (const [k] of m.headers) out[k.toLowerCase()] = m.headers.get(k);
  return out;
}

export class NatsSource implements EventSource {
  readonly name = 'nats';
  private running = false;
  private loop: Promise<void> | undefined;
  private trouble: string | null = 'not started';
  private readonly log: Logger;

  constructor(private readonly options: NatsSourceOptions) {
    this.log = options.logger.child({ component: 'nats-source' });
  }

  problem(): string | null {
    return this.trouble;
  }

  async start(): Promise<void> {
    const { nc, stream, durable } = this.options;
    await ensureEventStream(nc, stream);
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: EVENTS_SUBJECTS,
        ack_wait: ACK_WAIT_NS,
        max_ack_pending: 20_000,
      });
    }
    this.running = true;
    this.trouble = null;
    this.loop = this.consume().catch((err: unknown) => {
      this.trouble = `consumer stopped: ${(err as Error).message}`;
      this.log.error({ err }, 'nats consumer loop failed');
    });
    this.log.info({ stream, durable }, 'nats source started');
  }

  private async consume(): Promise<void> {
    const { nc, stream, durable, pipeline } = this.options;
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const channel = `nats:${stream}`;
    while (this.running) {
      let batch: JsMsg[] = [];
      try {
        const messages = await consumer.fetch({ max_messages: this.options.batchSize ?? 500, expires: 1000 });
        for await (const m of messages) batch.push(m);
        this.trouble = null;
      } catch (err) {
        if (!this.running) return;
        this.trouble = `fetch failed: ${(err as Error).message}`;
        this.log.warn({ err }, 'jetstream fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (batch.length === 0) continue;
      const candidates: Candidate[] = [];
      const rejections: Rejection[] = [];
      const poison = new Set<number>();
      batch.forEach((m, index) => {
        const raw = decoder.decode(m.data);
        const decoded = decodeRecord(raw, headersOf(m), 'ce-');
        if (decoded.ok) candidates.push({ index, event: decoded.event, raw });
        else {
          poison.add(index);
          rejections.push({ index, id: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, raw });
        }
      });
      const last = batch[batch.length - 1]!;
      if (this.options.bridge !== undefined) await this.untilBridged(channel, batch, candidates, rejections);
      else {
        pipeline.ingest(channel, candidates, rejections, { idleAfter: last.info.pending === 0 });
        await this.untilDurable(batch);
      }
      batch.forEach((m, index) => (poison.has(index) ? m.term() : m.ack()));
      batch = [];
    }
  }

  private async untilBridged(channel: string, batch: readonly JsMsg[], candidates: readonly Candidate[], rejections: readonly Rejection[]): Promise<void> {
    await bridgeBatch(this.options.bridge!, channel, candidates, rejections, (err, wait) => {
      this.trouble = `Kafka unavailable, holding acks: ${err.message}`;
      this.log.warn({ err, retryInMs: wait }, 'bridging JetStream into Kafka failed; holding the acks and retrying');
      for (const m of batch) m.working();
    });
  }

  private async untilDurable(batch: readonly JsMsg[]): Promise<void> {
    const pipeline = this.options.pipeline;
    let wait = 250;
    for (;;) {
      try {
        if (pipeline.hasKpiSink) await pipeline.flushSink();
        await pipeline.forwardsSettled();
        return;
      } catch (err) {
        this.trouble = `KPI store unavailable, holding acks: ${(err as Error).message}`;
        this.log.warn({ err, retryInMs: wait }, 'KPI store write failed; holding the acks and retrying');
        // Tell JetStream we are still working so it does not redeliver meanwhile.
        for (const m of batch) m.working();
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 5000);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.trouble = 'stopped';
  }
}
