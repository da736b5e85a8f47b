/**
 * What every instance of a cluster reads in full (docs/cluster.md §2): the alert view
 * (`G.alerts`), the latest checkpoint records (`G.tasks`), the notification outbox and
 * silences (`G.notifications`) and, without InfluxDB, the KPI partials (`G.partials`) when
 * the partials view has no worker thread of its own (partials-view-worker.ts, which reads
 * them as a rule). A consumer of its own group (one per process start), from the
 * beginning, never committing: the topics are compacted, so the latest value of each key
 * is what matters, and a fresh start rebuilds the view.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Alert, AlertAction } from '../alerts/alert.js';
import type { AlertAnnouncer } from '../ports.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';
import { applyNotificationRecords } from './cluster-outbox.js';
import type { PartialsView } from './partials-view.js';
import type { ClusterTopics } from './topics.js';

export interface AlertRecord {
  version: number;
  task: string;
  action: AlertAction;
  alert: Alert;
}

export class StateReader {
  private consumer: Consumer | undefined;
  /** Latest value per key of `G.tasks`. */
  readonly checkpoints = new Map<string, Buffer | null>();
  /** Owning task per alert id. */
  readonly alertTasks = new Map<string, string>();
  private readonly positions = new Map<string, bigint>();
  private readonly waiters = new Set<() => void>();
  private readonly log: Logger;
  /** Called after pending deliveries were added to the local outbox (wakes the owner's worker). */
  onDeliveries: () => void = () => undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly topics: ClusterTopics,
    private readonly group: string,
    private readonly store: EmbeddedStore,
    private readonly announcers: AlertAnnouncer[],
    private readonly partials: PartialsView | undefined,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'cluster-state-reader' });
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `${this.group}.reader.${randomUUID()}`, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: 4 * 1024 * 1024 });
    this.consumer = consumer;
    await consumer.connect();
    const topics = [this.topics.alerts, this.topics.tasks, this.topics.notifications, ...(this.partials === undefined ? [] : [this.topics.partials])];
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        if (batch.topic === this.topics.alerts) this.applyAlerts(batch.messages);
        else if (batch.topic === this.topics.tasks) {
          for (const m of batch.messages) if (m.key !== null) this.checkpoints.set(m.key.toString('utf8'), m.value);
        } else if (batch.topic === this.topics.notifications) {
          if (applyNotificationRecords(this.store, batch.messages)) this.onDeliveries();
        } else if (batch.topic === this.topics.partials && this.partials !== undefined) {
          this.partials.applyRecords(batch.messages);
        }
        const last = batch.lastOffset();
        resolveOffset(last);
        this.positions.set(`${batch.topic}:${batch.partition}`, BigInt(last) + 1n);
        for (const w of [...this.waiters]) w();
      },
    });
  }

  private applyAlerts(messages: ReadonlyArray<{ value: Buffer | null }>): void {
    const changes: Array<{ action: AlertAction; alert: Alert }> = [];
    const pending = new Map<string, number>();
    for (const m of messages) {
      if (m.value === null) continue;
      const r = JSON.parse(m.value.toString('utf8')) as AlertRecord;
      this.alertTasks.set(r.alert.id, r.task);
      const known = pending.get(r.alert.id) ?? this.store.getAlert(r.alert.id)?.history.length ?? 0;
      // A repeat (a re-read after a takeover, or an older record before compaction) is not newer.
      if (r.version <= known) continue;
      pending.set(r.alert.id, r.version);
      changes.push({ action: r.action, alert: r.alert });
    }
    if (changes.length === 0) return;
    const committed = this.store.commit({ log: null, partials: [], alerts: changes, deadLetters: [] });
    for (const a of this.announcers) {
      try {
        const p = a.announce(committed);
        if (p instanceof Promise) p.catch((err: unknown) => this.log.warn({ err }, 'alert announcement failed'));
      } catch (err) {
        this.log.warn({ err }, 'alert announcement failed');
      }
    }
  }

  /** Resolves once everything written to `topic` before this call has been read. */
  async caughtUp(topic: string, timeoutMs = 60_000): Promise<void> {
    let ends: Awaited<ReturnType<Admin['fetchTopicOffsets']>> = [];
    for (let i = 0; ; i++) {
      try {
        ends = await this.admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        // Leaders move for a moment after topics are created: retriable.
        if (i >= 40 || (err as { retriable?: boolean }).retriable === false) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const done = () => ends.every((p) => BigInt(p.high) <= BigInt(p.low) || (this.positions.get(`${topic}:${p.partition}`) ?? 0n) >= BigInt(p.high));
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`reading ${topic} did not reach its end within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Resolves when `predicate` holds after some batch, or false after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
