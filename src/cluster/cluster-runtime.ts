/**
 * A cluster member (docs/cluster.md): the consumer group over the input topics and the
 * global stage's topic, one task per assigned partition, outputs produced in order, and
 * checkpoints written before offsets are committed. Also what the HTTP layer needs in
 * cluster mode: ingest into the input topics and operator commands to the owning task.
 *
 * Order per task (§3): apply a batch → hand its outputs to the producer (alerts, partials
 * or InfluxDB, minute reports, dead letters) → every snapshot interval: wait for all
 * outputs so far → write the checkpoint → commit its offset. NATS announcements follow the
 * alert record's acknowledgement.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Alert, AlertChange } from '../alerts/alert.js';
import type { EngineConfig } from '../engine/engine.js';
import type { TaskReport } from '../engine/global-stage.js';
import { formatRfc3339 } from '../events/event-time.js';
import { formatInZone } from '../time/time-zone.js';
import { entityKeyOf } from '../events/routing.js';
import type { HuitianEvent } from '../events/schemas.js';
import { HuitianError } from '../errors.js';
import type { InfluxKpiStore } from '../influx/influx-kpi-store.js';
import type { PartialDelta } from '../kpis/partials.js';
import { ServiceMetrics } from '../metrics.js';
import type { Candidate, IngestReport, Rejection, SilenceInput } from '../pipeline/pipeline.js';
import type { DeliveryPlanner } from '../delivery/planner.js';
import type { NotificationsConfig } from '../notifications/notifications-config.js';
import { DEFAULT_NOTIFICATIONS } from '../notifications/notifications-config.js';
import type { Silence } from '../notifications/silences.js';
import { capMessage, ClusterOutbox, deliveryMessage, silenceMessage } from './cluster-outbox.js';
import type { StageAlertRecord, StageProgressRecord } from './cluster-notifications.js';
import type { AlertAnnouncer, CapMessages, CapNumbered, CommittedAlertEvent, DeadLetter, DeadLetterForwarder } from '../ports.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';
import { deadLetterMessage } from '../kafka/kafka-publishers.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { CHUNK_BYTES, CheckpointWriter, decodeCheckpoint, newestManifest, partitionOfTask } from './checkpoints.js';
import { globalPartialRecords, openPartialsFile, PARTIALS_FILE, PartialsView, partialMessages, type PartialRecord } from './partials-view.js';
import type { PartialsWorkerData } from './partials-view-worker.js';
import { StateReader, type AlertRecord } from './state-reader.js';
import { GLOBAL_TASK, GlobalTask, globalReportsOf, type GlobalSnapshot } from './global-task.js';
import { COMMAND_HEADER, parseTaskId, Task, taskIdOf, type TaskSnapshot } from './task.js';
import { clusterTopicsOf, ensureClusterTopics, INTERNAL_PARTITIONS, topicSpecs, type ClusterTopics } from './topics.js';

export { GLOBAL_TASK } from './global-task.js';

export interface ClusterOptions {
  kafka: Kafka;
  group: string;
  inputTopics: readonly string[];
  engineConfig: EngineConfig;
  rules: RulesConfig;
  store: EmbeddedStore;
  influx?: InfluxKpiStore;
  /** Announced once a transition's alert record is acknowledged (NATS). */
  announcers: AlertAnnouncer[];
  /** Fed by the alert view (SSE). */
  viewAnnouncers: AlertAnnouncer[];
  dlqTopic: string;
  metrics: ServiceMetrics;
  logger: Logger;
  wallClock: () => number;
  snapshotIntervalMs: number;
  sessionTimeoutMs: number;
  commandWaitMs: number;
  timeMode: 'live' | 'replay';
  idleTimeoutMs: number;
  /** The data directory: the partials view's file lives there (docs/cluster.md §7). */
  dataDir: string;
  /** How the partials view's worker thread connects to Kafka (its own client); without it the view is written on the main thread. */
  partialsWorker?: { brokers: string[]; clientId: string; logLevel: string };
  onFatal?: (err: Error) => void;
  /**
   * Routes, receivers and escalation (issue 12). With routes, the tasks feed the notification
   * stage of the global task through `G.global` (§10); silences work with or without them, and
   * the tasks' transitions go there either way (the global task numbers their CAP identifiers).
   */
  notifications?: NotificationsConfig;
  /** Turns the stage's notifications into outbox rows. */
  planner?: DeliveryPlanner;
}

/** What delivers the owner's outbox (the OutboxWorker): started while this instance owns the global stage. */
export interface DeliveryWorker {
  start(): void;
  stop(): Promise<void>;
  wake(): void;
}

type AnyTask = Task | GlobalTask;

interface TaskMeta {
  lastCheckpointAt: number;
  /** Offset of the last checkpoint this instance wrote for the task. */
  checkpointed?: bigint;
  high: bigint | null;
  lastActivity: number;
  restoring: boolean;
  /** Whether the last batch left the task at its partition's end. */
  atEnd: boolean;
  /** The offset the task was restored at (its checkpoint's, or the partition's start). */
  restoredAt: bigint;
  /** The last watermark this owner sent the notification stage (§10). */
  stageWatermark?: number;
}

/** Records behind its checkpoint a task must be when it reaches its partition's end for that to checkpoint it (§3). */
export const CATCH_UP_CHECKPOINT_RECORDS = 1000n;

export type OperateResult = { alert: Alert } | { pending: { status: 'pending'; alertId: string; requestId: string; follow: string } };

export class ClusterRuntime implements DeadLetterForwarder, CapMessages {
  readonly topics: ClusterTopics;
  readonly partialsView: PartialsView | undefined;
  private admin!: Admin;
  private producer!: Producer;
  private consumer!: Consumer;
  private reader!: StateReader;
  private viewWorker: Worker | undefined;
  private readonly tasks = new Map<string, AnyTask>();
  private readonly meta = new Map<string, TaskMeta>();
  private readonly restoring = new Map<string, Promise<AnyTask | undefined>>();
  private assigned = new Set<string>();
  private readonly writer = new CheckpointWriter();
  /** The checkpoint being written per task: the next one waits for it (two would share a slot). */
  private readonly checkpoints = new Map<string, Promise<void>>();
  private allPass: Promise<void> | undefined;
  private kafkaChain: Promise<void> = Promise.resolve();
  private influxChain: Promise<void> = Promise.resolve();
  private tasksPartitions = INTERNAL_PARTITIONS;
  private partialsPartitions = INTERNAL_PARTITIONS;
  private dispatchTasks: string[] = [];
  private stopping = false;
  private inFlight = 0;
  private starting: Promise<void> | undefined;
  private taskConfig: EngineConfig;
  private idleTimer: NodeJS.Timeout | undefined;
  private trouble: string | null = 'not started';
  private broken = false;
  private readonly log: Logger;
  private readonly gauges: ClusterMetrics;
  /** When this instance received its first non-empty input batch (epoch ms, sub-ms precision); for benchmarks. */
  firstRecordAt: number | undefined;
  /** The global stage owner's outbox: the local mirror of `G.notifications`, outcomes written back (§10). */
  readonly outbox: ClusterOutbox;
  private deliveryWorker: DeliveryWorker | undefined;
  /** Whether tasks send their transitions and watermarks to the notification stage (routes configured). */
  private readonly stageFeed: boolean;
  /** Deliveries this owner has written to `G.notifications` (not yet read back into the outbox). */
  private readonly written = new Set<string>();

  constructor(private readonly o: ClusterOptions) {
    this.topics = clusterTopicsOf(o.group);
    this.taskConfig = o.engineConfig;
    this.log = o.logger.child({ component: 'cluster' });
    if (o.influx === undefined) {
      // The view's tables of earlier versions lived in the data file; it has a file of its own now.
      o.store.db.exec('DROP TABLE IF EXISTS cluster_partials; DROP TABLE IF EXISTS cluster_partial_records');
      this.partialsView = new PartialsView(openPartialsFile(join(o.dataDir, PARTIALS_FILE)));
    } else this.partialsView = undefined;
    this.gauges = new ClusterMetrics(o.metrics.registry, {
      owned: () => this.assigned.size,
      restoring: () => [...this.meta.values()].filter((m) => m.restoring).length,
    });
    this.stageFeed = (o.notifications?.routes.length ?? 0) > 0;
    this.outbox = new ClusterOutbox(o.store, (m) => {
      this.producer
        .send({ topic: this.topics.notifications, acks: -1, messages: [m] })
        .catch((err: unknown) => this.log.warn({ err }, 'delivery outcome not written to the notifications topic; the next owner of the stage may send it again'));
    });
  }

  /**
   * The CAP message of an alert version (§10): the global task's own numbers while this
   * instance owns it (a delivery is rendered in the batch that numbers it), else the mirror of
   * `G.notifications`; undefined while the version is not numbered (yet).
   */
  capNumberOf(a: Alert): CapNumbered | undefined {
    const owned = this.tasks.get(GLOBAL_TASK);
    const version = a.history.length;
    return (owned instanceof GlobalTask ? owned.cap.find(a.id, version) : undefined) ?? this.o.store.capNumberOf(a);
  }

  /** The instance's producer once started (Kafka receivers of notifications use it). */
  get kafkaProducer(): Producer | undefined {
    return this.starting === undefined ? undefined : this.producer;
  }

  /** The worker that delivers the outbox while this instance owns the global stage. */
  setDeliveryWorker(w: DeliveryWorker): void {
    this.deliveryWorker = w;
  }

  addAnnouncer(a: AlertAnnouncer): void {
    this.o.announcers.push(a);
  }

  problem(): string | null {
    return this.trouble;
  }

  start(): Promise<void> {
    this.starting ??= this.connect();
    return this.starting;
  }

  private async connect(): Promise<void> {
    const o = this.o;
    this.admin = o.kafka.admin();
    await this.admin.connect();
    const partitions = await ensureClusterTopics(this.admin, topicSpecs(this.topics, this.partialsView !== undefined), [...o.inputTopics, o.dlqTopic], this.log);
    this.tasksPartitions = partitions.get(this.topics.tasks) ?? INTERNAL_PARTITIONS;
    this.partialsPartitions = partitions.get(this.topics.partials) ?? INTERNAL_PARTITIONS;
    const dispatchTopic = o.inputTopics.find((t) => t === 'huitian.dispatch' || t.endsWith('.dispatch'));
    this.dispatchTasks = dispatchTopic === undefined ? [] : Array.from({ length: partitions.get(dispatchTopic) ?? 0 }, (_, p) => taskIdOf(dispatchTopic, p));
    // Each task's dedup memory bound is its share of HUITIAN_DEDUP_MAX_MB over every input
    // partition: the same on every instance (what a task refuses as late once its bound is
    // reached must not depend on who owns it), and an instance owning all tasks stays within it.
    const inputPartitions = o.inputTopics.reduce((n, t) => n + (partitions.get(t) ?? 0), 0);
    this.taskConfig = { ...o.engineConfig, dedupMaxBytes: Math.floor(o.engineConfig.dedupMaxBytes / Math.max(1, inputPartitions)) };
    this.producer = o.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    const viewInWorker = this.partialsView !== undefined && this.startPartialsWorker();
    this.reader = new StateReader(o.kafka, this.admin, this.topics, o.group, o.store, o.viewAnnouncers, viewInWorker ? undefined : this.partialsView, o.logger);
    this.reader.onDeliveries = () => this.deliveryWorker?.wake();
    await this.reader.start();
    await this.reader.caughtUp(this.topics.alerts);

    const consumer = o.kafka.consumer({
      groupId: o.group,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
      rebalanceTimeout: 60_000,
      maxBytesPerPartition: 1024 * 1024,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onAssignment(e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => {
      this.trouble = `consumer crashed: ${e.payload.error.message}${e.payload.restart ? ' (restarting)' : ''}`;
      this.log.error({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...o.inputTopics, this.topics.global], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
    if (o.timeMode === 'live') {
      this.idleTimer = setInterval(() => this.tickIdleTasks(), Math.max(250, Math.floor(o.idleTimeoutMs / 2)));
      this.idleTimer.unref();
    }
    this.log.info({ group: o.group, inputs: o.inputTopics, internal: this.topics }, 'cluster member started');
  }

  /**
   * The partials view written by a worker thread (partials-view-worker.ts): false when it
   * cannot run (no worker settings, or the compiled worker is not beside this module, as when
   * the sources run untranspiled), and the state reader writes the view on this thread.
   */
  private startPartialsWorker(): boolean {
    const w = this.o.partialsWorker;
    const url = new URL('./partials-view-worker.js', import.meta.url);
    if (w === undefined || url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return false;
    const data: PartialsWorkerData = { ...w, group: this.o.group, topic: this.topics.partials, file: join(this.o.dataDir, PARTIALS_FILE) };
    const worker = new Worker(url, { workerData: data });
    worker.on('message', (m: { type: string; message?: string }) => {
      if (m.type !== 'failed') return;
      this.trouble = `partials view: ${m.message ?? 'failed'}`;
      this.log.error({ error: m.message }, 'the partials view worker failed; KPI answers stop following G.partials');
    });
    worker.on('error', (err) => {
      this.trouble = `partials view: ${err.message}`;
      this.log.error({ err }, 'the partials view worker failed; KPI answers stop following G.partials');
    });
    worker.on('exit', (code) => {
      if (this.viewWorker === worker && !this.stopping) {
        this.trouble = `partials view: its worker exited (code ${code})`;
        this.log.error({ code }, 'the partials view worker exited');
      }
    });
    this.viewWorker = worker;
    return true;
  }

  private async stopPartialsWorker(): Promise<void> {
    const worker = this.viewWorker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      worker.once('exit', done);
      worker.on('message', (m: { type: string }) => {
        if (m.type === 'stopped') done();
      });
      worker.postMessage({ type: 'stop' });
    });
    await worker.terminate();
    this.viewWorker = undefined;
  }

  // ---- assignment and restore ----

  private onAssignment(assignment: Record<string, number[]>): void {
    const now = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const p of partitions) now.add(topic === this.topics.global ? GLOBAL_TASK : taskIdOf(topic, p));
    }
    for (const id of this.assigned) {
      if (now.has(id)) continue;
      // Revoked: state and sampling go; the next owner restores from the checkpoint.
      if (id === GLOBAL_TASK && this.tasks.has(id)) void this.deliveryWorker?.stop();
      this.tasks.delete(id);
      this.meta.delete(id);
      this.restoring.delete(id);
      this.gauges.lag.remove({ task: id });
      this.gauges.watermark.remove({ task: id });
    }
    for (const id of now) if (!this.assigned.has(id) && !this.tasks.has(id)) this.beginRestore(id);
    this.assigned = now;
    this.trouble = null;
    this.log.info({ tasks: [...now].sort() }, 'cluster tasks assigned');
  }

  private beginRestore(id: string): void {
    const started = performance.now();
    this.meta.set(id, { lastCheckpointAt: this.o.wallClock(), high: null, lastActivity: this.o.wallClock(), restoring: true, atEnd: false, restoredAt: 0n });
    const p = this.restore(id)
      .then((task) => {
        if (!this.assigned.has(id) || this.restoring.get(id) !== p) return undefined;
        this.tasks.set(id, task);
        this.restoring.delete(id);
        const m = this.meta.get(id);
        if (m !== undefined) {
          m.restoring = false;
          m.restoredAt = task.next;
        }
        // The outbox as of the restore is read (restore waited for G.notifications): deliver what is pending.
        if (id === GLOBAL_TASK) this.deliveryWorker?.start();
        const seconds = (performance.now() - started) / 1000;
        this.gauges.restore.observe(seconds);
        this.log.info({ task: id, next: task.next.toString(), seconds }, 'cluster task restored');
        return task;
      })
      .catch((err: unknown) => {
        this.log.error({ err, task: id }, 'cluster task restore failed');
        this.fatal(err as Error);
        return undefined;
      });
    this.restoring.set(id, p);
  }

  private async restore(id: string): Promise<AnyTask> {
    await this.reader.caughtUp(this.topics.tasks);
    const cp = await decodeCheckpoint(id, this.reader.checkpoints);
    this.writer.remember(id, cp?.manifest, cp?.slotCounts ?? [0, 0]);
    if (id === GLOBAL_TASK) {
      // What the previous owner delivered (§10): a re-read then writes again only what is not in the outbox.
      await this.reader.caughtUp(this.topics.notifications);
      const low = await this.lowOffset(this.topics.global, 0);
      return GlobalTask.restore(
        this.o.rules,
        this.dispatchTasks,
        cp === null ? null : (cp.state as GlobalSnapshot),
        low,
        cp === null ? undefined : BigInt(cp.manifest.offset),
        this.o.engineConfig.timeZone,
        this.o.notifications ?? DEFAULT_NOTIFICATIONS,
      );
    }
    const { topic, partition } = parseTaskId(id);
    const low = await this.lowOffset(topic, partition);
    const task = cp === null ? new Task(id, topic, partition, this.taskConfig, low) : new Task(id, topic, partition, this.taskConfig, 0n, cp.state as TaskSnapshot);
    task.bucketRecords = this.partialsView !== undefined;
    return task;
  }

  /** The partition's earliest offset; also notes its end, so lag is known before the first batch. */
  private async lowOffset(topic: string, partition: number): Promise<bigint> {
    let offsets: Awaited<ReturnType<Admin['fetchTopicOffsets']>> = [];
    for (let i = 0; ; i++) {
      try {
        offsets = await this.admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        // Metadata not loaded yet right after a rebalance: retriable.
        if (i >= 40 || (err as { retriable?: boolean }).retriable === false) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const p = offsets.find((o) => o.partition === partition);
    const id = topic === this.topics.global ? GLOBAL_TASK : taskIdOf(topic, partition);
    const meta = this.meta.get(id);
    if (meta !== undefined && p !== undefined) meta.high = BigInt(p.high);
    return BigInt(p?.low ?? '0');
  }

  private async taskFor(id: string, heartbeat: () => Promise<void>): Promise<AnyTask | undefined> {
    const ready = this.tasks.get(id);
    if (ready !== undefined) return ready;
    const pending = this.restoring.get(id);
    if (pending === undefined) return undefined;
    for (;;) {
      const t = await Promise.race([pending, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 1000))]);
      if (t !== 'wait') return t;
      await heartbeat().catch(() => undefined);
    }
  }

  // ---- batches ----

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || this.stopping || this.broken || !isRunning() || isStale()) return;
    this.firstRecordAt ??= performance.timeOrigin + performance.now();
    const id = batch.topic === this.topics.global ? GLOBAL_TASK : taskIdOf(batch.topic, batch.partition);
    this.inFlight++;
    try {
      const task = await this.taskFor(id, heartbeat);
      if (task === undefined || this.tasks.get(id) !== task || !isRunning() || isStale()) return;
      const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
      if (first > task.next) {
        // The group offset is ahead of the checkpoint (should not happen; e.g. G.tasks was
        // emptied): read from the checkpoint's offset instead of skipping records.
        this.log.warn({ task: id, first: first.toString(), next: task.next.toString() }, 'group offset ahead of the checkpoint; seeking back');
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: task.next.toString() });
        return;
      }
      const meta = this.meta.get(id)!;
      const wall = this.o.wallClock();
      if (task instanceof Task) this.applyTaskBatch(task, batch.messages, wall);
      else this.applyGlobalBatch(task, batch.messages);
      meta.high = BigInt(batch.highWatermark);
      meta.lastActivity = wall;
      this.gauges.lag.set({ task: id }, Number(meta.high - task.next));
      resolveOffset(batch.lastOffset());
      // The batch's outputs are durable before the handler returns. kafkajs rejoins a
      // rebalance only once every handler in flight has returned, so an instance that gives
      // a task away has nothing of it left in flight when the next owner starts: a late
      // write of an older absolute value can never land over the new owner's. This is also
      // the backpressure: a slow sink (InfluxDB down) stops the fetching, not the memory.
      for (;;) {
        const drained = await Promise.race([this.outputsDrained().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 1000))]);
        if (drained || this.broken) break;
        await heartbeat().catch(() => undefined);
      }
      // Every snapshot interval, and once when a task that was behind has read its partition
      // to the end (catch-up after a start or a takeover): else a failover right after a
      // catch-up re-reads up to an interval of catch-up speed instead of one of live traffic.
      const atEnd = meta.high <= task.next;
      const caughtUp = atEnd && !meta.atEnd && task.next - (meta.checkpointed ?? meta.restoredAt) >= CATCH_UP_CHECKPOINT_RECORDS;
      meta.atEnd = atEnd;
      if ((wall - meta.lastCheckpointAt >= this.o.snapshotIntervalMs || caughtUp) && isRunning() && !isStale()) await this.checkpoint(id, task);
      try {
        await heartbeat();
      } catch (err) {
        // Still a member of this generation and about to rejoin: checkpoint every task now,
        // so whoever gets one next re-reads nothing (a revoked partition used to wait for
        // the timer). Not after ILLEGAL_GENERATION: then the tasks may have new owners.
        if ((err as { type?: string }).type === 'REBALANCE_IN_PROGRESS') await this.checkpointAll('rebalance');
        throw err;
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Checkpoints every owned task once (concurrent callers share the one pass). */
  private checkpointAll(why: string): Promise<void> {
    if (this.allPass === undefined) {
      const pass = (async () => {
        for (const [id, task] of [...this.tasks]) {
          if (this.broken) return;
          await this.checkpoint(id, task).catch((err: unknown) => this.log.warn({ err, task: id, why }, 'checkpoint failed; the next owner re-reads from the previous one'));
        }
      })();
      this.allPass = pass.finally(() => {
        this.allPass = undefined;
      });
    }
    return this.allPass;
  }

  private applyTaskBatch(task: Task, messages: EachBatchPayload['batch']['messages'], wall: number): void {
    const retouched = task.partials.retouched;
    const out = task.process(messages, wall);
    if (task.partials.retouched > retouched) {
      this.gauges.retouched.inc(task.partials.retouched - retouched);
      this.log.error({ task: task.id, keys: task.partials.retouched - retouched }, 'KPI partial keys changed after leaving the partial table: a re-read of this task would miscount them (a bug)');
    }
    const m = this.o.metrics;
    const counters = { in: m.eventsIn, accepted: m.eventsAccepted, duplicate: m.eventsDuplicate, late: m.eventsLate, future: m.eventsFuture, conflict: m.eventsConflict, rejected: m.eventsRejected };
    for (const [outcome, counter] of Object.entries(counters)) for (const [type, n] of out.byType[outcome as keyof typeof counters]) counter.inc({ type }, n);
    for (const r of out.refused) this.log.warn({ task: task.id, ...r }, 'operator command refused by the owning task (the alert changed meanwhile)');
    const wm = task.engine.watermark;
    if (Number.isFinite(wm)) this.gauges.watermark.set({ task: task.id }, wm / 1000);
    const reports = globalReportsOf(task.id, out, wm, this.dispatchTasks.includes(task.id));
    const extra: Array<[string, Message]> = [];
    // The notification stage's input (§10), after the task's other records of the batch: its
    // transitions — always, as the global task numbers their CAP identifiers — then, with
    // routes, how far its watermark has come.
    for (const a of out.alerts) {
      const r: StageAlertRecord = { kind: 'stage-alert', task: task.id, version: a.alert.history.length, action: a.action, alert: a.alert };
      extra.push([this.topics.global, { key: task.id, value: JSON.stringify(r) }]);
    }
    if (this.stageFeed) {
      const meta = this.meta.get(task.id);
      if (meta !== undefined && Number.isFinite(wm) && wm > (meta.stageWatermark ?? Number.NEGATIVE_INFINITY)) {
        meta.stageWatermark = wm;
        const r: StageProgressRecord = { kind: 'stage-progress', task: task.id, watermark: wm };
        extra.push([this.topics.global, { key: task.id, value: JSON.stringify(r) }]);
      }
    }
    this.emit(task.id, out.partials, out.partialRecords, out.alerts, reports, out.deadLetters, extra);
  }

  private applyGlobalBatch(task: GlobalTask, messages: EachBatchPayload['batch']['messages']): void {
    const out = task.process(messages);
    for (const r of out.refused) this.log.warn({ task: GLOBAL_TASK, ...r }, 'operator command refused by the global stage');
    const extra: Array<[string, Message]> = [];
    // The CAP numbers first: a delivery rendered with one is never in the topic before it.
    for (const c of out.cap) extra.push([this.topics.notifications, capMessage(c)]);
    const n = out.notify;
    if (this.o.planner !== undefined) {
      for (const notification of n.notifications) {
        for (const d of this.o.planner.plan(notification)) {
          // Decided again by a re-read after a handoff: already in the outbox (pending or delivered).
          if (this.written.has(d.deliveryId) || this.o.store.getDelivery(d.deliveryId) !== undefined) continue;
          if (this.written.size >= 100_000) this.written.clear();
          this.written.add(d.deliveryId);
          extra.push([this.topics.notifications, deliveryMessage(d)]);
          this.o.metrics.notificationsQueued.inc({ receiver: d.receiver });
        }
      }
      this.o.metrics.notificationsDecided.inc(n.notifications.length);
    }
    for (const silence of n.silences) extra.push([this.topics.notifications, silenceMessage(silence)]);
    for (const a of n.annotations) {
      if (a.task === '' || a.task === GLOBAL_TASK) continue;
      const { topic, partition } = parseTaskId(a.task);
      const value = JSON.stringify({ alertId: a.alertId, entry: a.entry, ...(a.silencedBy === undefined ? {} : { silencedBy: a.silencedBy }) });
      extra.push([topic, { partition, key: null, value, headers: { [COMMAND_HEADER]: 'annotate' } }]);
    }
    // The global stage has no partial table: its few partials (acknowledgements of kpi_breach) as they are.
    this.emit(GLOBAL_TASK, out.partials, globalPartialRecords(out.partials), out.alerts, [], [], extra);
  }

  /** Hands one batch's outputs to the producer (and InfluxDB), in order. */
  private emit(
    taskId: string,
    partials: readonly PartialDelta[],
    partialRecords: readonly PartialRecord[],
    alerts: readonly AlertChange[],
    reports: readonly TaskReport[],
    deadLetters: readonly DeadLetter[],
    extra: ReadonlyArray<[topic: string, message: Message]> = [],
  ): void {
    const messages = new Map<string, Message[]>();
    const add = (topic: string, m: Message) => {
      let list = messages.get(topic);
      if (list === undefined) messages.set(topic, (list = []));
      list.push(m);
    };
    const announced: CommittedAlertEvent[] = [];
    for (const c of alerts) {
      const version = c.alert.history.length;
      const record: AlertRecord = { version, task: taskId, action: c.action, alert: c.alert };
      add(this.topics.alerts, { key: c.alert.id, value: JSON.stringify(record) });
      announced.push({ seq: version, action: c.action, alert: c.alert });
    }
    for (const r of reports) add(this.topics.global, { key: taskId, value: JSON.stringify(r) });
    if (this.partialsView !== undefined && partialRecords.length > 0) {
      const partition = partitionOfTask(taskId, this.partialsPartitions);
      for (const m of partialMessages(partialRecords, partition)) add(this.topics.partials, m);
    }
    for (const d of deadLetters) add(this.o.dlqTopic, deadLetterMessage(d, this.o.engineConfig.timeZone));
    for (const [topic, m] of extra) add(topic, m);
    if (deadLetters.length > 0) this.o.store.commit({ log: null, partials: [], alerts: [], deadLetters, checkpoints: [] });
    if (messages.size > 0) {
      const topicMessages = [...messages].map(([topic, list]) => ({ topic, messages: list }));
      this.kafkaChain = this.kafkaChain.then(async () => {
        try {
          for (const part of requestsOf(topicMessages)) await this.producer.sendBatch({ topicMessages: part, acks: -1 });
        } catch (err) {
          this.fatal(err as Error);
          throw err;
        }
        if (announced.length > 0) for (const a of this.o.announcers) await Promise.resolve(a.announce(announced)).catch((err: unknown) => this.log.warn({ err }, 'alert announcement failed'));
      });
      this.kafkaChain.catch(() => undefined);
    }
    const influx = this.o.influx;
    if (influx !== undefined && partials.length > 0) {
      const points = partials;
      this.influxChain = this.influxChain.then(async () => {
        let wait = 250;
        for (;;) {
          try {
            await influx.writeAbsolute(points, taskId);
            if (this.trouble?.startsWith('KPI store') === true) this.trouble = null;
            return;
          } catch (err) {
            this.trouble = `KPI store unavailable, holding checkpoints: ${(err as Error).message}`;
            this.log.warn({ err, retryInMs: wait }, 'InfluxDB write failed; retrying');
            await new Promise((r) => setTimeout(r, wait));
            wait = Math.min(wait * 2, 5000);
            if (this.stopping && this.broken) return;
          }
        }
      });
    }
  }

  /** Resolves once every output handed to Kafka and InfluxDB so far is acknowledged (e.g. a benchmark's "durable"). */
  settled(): Promise<void> {
    return this.outputsDrained();
  }

  private async outputsDrained(): Promise<void> {
    await this.kafkaChain;
    await this.influxChain;
  }

  /** §3: outputs durable → checkpoint durable → offset committed. One at a time per task. */
  private checkpoint(id: string, task: AnyTask): Promise<void> {
    const before = this.checkpoints.get(id) ?? Promise.resolve();
    const next = before.then(() => this.writeCheckpoint(id, task));
    const settled = next.catch(() => undefined);
    this.checkpoints.set(id, settled);
    void settled.then(() => {
      if (this.checkpoints.get(id) === settled) this.checkpoints.delete(id);
    });
    return next;
  }

  private async writeCheckpoint(id: string, task: AnyTask): Promise<void> {
    const meta = this.meta.get(id);
    if (meta === undefined || this.tasks.get(id) !== task) return;
    // Nothing new since the last checkpoint (a quiet task, or a second pass of a rebalance).
    if (meta.checkpointed === task.next) return;
    meta.lastCheckpointAt = this.o.wallClock();
    const offset = task.next;
    const state = task.snapshot();
    await this.outputsDrained();
    const { chunks, manifest } = await this.writer.encode(id, offset, state, newestManifest(id, this.reader.checkpoints));
    const partition = partitionOfTask(id, this.tasksPartitions);
    const send = (messages: Message[]) => this.producer.send({ topic: this.topics.tasks, acks: -1, messages: messages.map((m) => ({ ...m, partition })) });
    const bytes = chunks.reduce((n, c) => n + (c.value === null ? 0 : (c.value as Buffer).length), 0);
    // A small checkpoint goes in one request: one record batch to one partition, appended
    // whole and in order, manifest last. A large one chunk by chunk (a record batch must
    // stay below the broker's message limit), the manifest once every chunk is acknowledged.
    if (bytes <= CHUNK_BYTES) await send([...chunks, manifest]);
    else {
      for (const c of chunks) await send([c]);
      await send([manifest]);
    }
    const { topic, partition: p } = task instanceof Task ? { topic: task.topic, partition: task.partition } : { topic: this.topics.global, partition: 0 };
    meta.checkpointed = offset;
    if (this.assigned.has(id)) {
      await this.consumer.commitOffsets([{ topic, partition: p, offset: offset.toString() }]).catch((err: unknown) => this.log.warn({ err, task: id }, 'offset commit failed; the checkpoint holds'));
    }
    this.log.debug({ task: id, offset: offset.toString(), chunks: chunks.length }, 'task checkpointed');
  }

  /** Live mode (§1): an owner appends a tick record to each quiet, caught-up partition. */
  private tickIdleTasks(): void {
    if (this.stopping || this.broken) return;
    const wall = this.o.wallClock();
    for (const [id, task] of this.tasks) {
      if (!(task instanceof Task)) continue;
      const meta = this.meta.get(id);
      if (meta === undefined || meta.restoring || meta.high === null || task.next < meta.high) continue;
      if (wall - meta.lastActivity < this.o.idleTimeoutMs) continue;
      meta.lastActivity = wall;
      this.producer
        .send({ topic: task.topic, acks: -1, messages: [{ partition: task.partition, key: null, value: JSON.stringify({ now: wall }), headers: { [COMMAND_HEADER]: 'tick' } }] })
        .catch((err: unknown) => this.log.warn({ err, task: id }, 'idle tick not written'));
    }
  }

  private fatal(err: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.trouble = `an output write failed: ${err.message}`;
    this.log.fatal({ err }, 'a cluster output write failed; stopping so that the tasks are restored from their checkpoints');
    this.o.onFatal?.(err);
  }

  // ---- the HTTP side ----

  /** HTTP ingest in cluster mode (§6): valid events into their input topics, acks from all in-sync replicas. */
  async ingest(candidates: readonly Candidate[], rejections: readonly Rejection[]): Promise<IngestReport> {
    await this.deadLetter('http', rejections);
    const unrouted = await this.produce(candidates);
    await this.deadLetter('http', unrouted);
    const errors = [...rejections, ...unrouted].map((r) => ({ index: r.index, id: r.id, reason: r.reason })).sort((a, b) => a.index - b.index);
    return { accepted: candidates.length - unrouted.length, duplicates: 0, rejected: rejections.length + unrouted.length, errors };
  }

  /** Refused input records: into the local dead-letter store, then forwarded; never throws. */
  async deadLetter(channel: string, rejections: readonly Rejection[]): Promise<void> {
    if (rejections.length === 0) return;
    const now = this.o.wallClock();
    const letters: DeadLetter[] = rejections.map((r) => ({ receivedAt: now, channel, eventId: r.id, type: r.type, reason: r.reason, payload: r.raw }));
    this.o.store.commit({ log: null, partials: [], alerts: [], deadLetters: letters });
    for (const r of rejections) {
      const type = ServiceMetrics.typeLabel(r.type);
      this.o.metrics.eventsIn.inc({ type });
      this.o.metrics.eventsRejected.inc({ type });
    }
    await this.forward(letters).catch((err: unknown) => this.log.warn({ err }, 'dead-letter forwarding failed; the records stay in the dead-letter store'));
  }

  /**
   * Valid events into their input topics (topic by type, key by entity), on every in-sync
   * replica; throws SOURCE_UNAVAILABLE while Kafka does not take them. Returns, refused,
   * the events of a type no configured input topic carries (the same on every attempt).
   */
  async produce(candidates: readonly Candidate[]): Promise<Rejection[]> {
    const byTopic = new Map<string, Message[]>();
    const unrouted: Rejection[] = [];
    for (const c of candidates) {
      const topic = this.inputTopicOf(c.event.type);
      if (topic === undefined) {
        unrouted.push({ index: c.index, id: c.event.id, type: c.event.type, reason: `type: no configured input topic carries ${c.event.type}`, raw: c.raw ?? encodeStructured(c.event) });
        continue;
      }
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push({ key: entityKeyOf(c.event) ?? null, value: c.raw ?? encodeStructured(c.event) });
    }
    if (byTopic.size > 0) {
      try {
        for (const part of requestsOf([...byTopic].map(([topic, messages]) => ({ topic, messages })))) await this.producer.sendBatch({ acks: -1, topicMessages: part });
      } catch (err) {
        throw new HuitianError('SOURCE_UNAVAILABLE', { details: `Kafka did not take the events: ${(err as Error).message}` }, { cause: err });
      }
    }
    return unrouted;
  }

  async forward(letters: readonly DeadLetter[]): Promise<void> {
    await this.producer.send({
      topic: this.o.dlqTopic,
      acks: -1,
      messages: letters.map((d) => deadLetterMessage(d, this.o.engineConfig.timeZone)),
    });
  }

  private inputTopicOf(type: string): string | undefined {
    const domain = type.split('.')[1];
    return this.o.inputTopics.find((t) => t === `huitian.${domain}` || t.endsWith(`.${domain}`));
  }

  /** Operator ack/resolve on any instance (§4): a command in the owning task's input. */
  async operate(kind: 'ack' | 'resolve', alertId: string, by: string, note: string | undefined, until?: number): Promise<OperateResult> {
    const alert = this.o.store.getAlert(alertId);
    if (alert === undefined) throw new HuitianError('ALERT_NOT_FOUND', { id: alertId });
    const action = kind === 'ack' ? 'acknowledged' : 'resolved';
    if (alert.status === 'resolved' || (kind === 'ack' && alert.status === 'acknowledged')) {
      throw new HuitianError('ALERT_TRANSITION_NOT_ALLOWED', { id: alertId, status: alert.status, action });
    }
    const owner = this.reader.alertTasks.get(alertId);
    if (owner === undefined) throw new HuitianError('NOT_READY', { details: `the owner of alert ${alertId} is not known yet` });
    const { topic, partition } = owner === GLOBAL_TASK ? { topic: this.topics.global, partition: 0 } : parseTaskId(owner);
    const requestId = randomUUID();
    const version = alert.history.length;
    const value = JSON.stringify({ alertId, by, requestId, ...(note === undefined ? {} : { note }), ...(kind === 'ack' && until !== undefined ? { until } : {}) });
    try {
      await this.producer.send({ topic, acks: -1, messages: [{ partition, key: alert.entityId, value, headers: { [COMMAND_HEADER]: kind } }] });
    } catch (err) {
      throw new HuitianError('SOURCE_UNAVAILABLE', { details: `Kafka did not take the command: ${(err as Error).message}` }, { cause: err });
    }
    const shown = () => {
      const a = this.o.store.getAlert(alertId);
      return a !== undefined && a.history.length > version && a.history.slice(version).some((h) => h.action === action || (kind === 'ack' && h.action === 'resolved'));
    };
    if (await this.reader.waitFor(shown, this.o.commandWaitMs)) return { alert: this.o.store.getAlert(alertId)! };
    return { pending: { status: 'pending', alertId, requestId, follow: `/v1/alerts/${alertId}` } };
  }

  /** A silence (§10): a command in `G.global`, ordered with the stage's other input; the silence once this instance lists it (or after the command wait). */
  async createSilence(input: SilenceInput, createdBy: string): Promise<Silence> {
    const createdAt = this.clock();
    const startsAt = input.startsAt ?? createdAt;
    if (input.endsAt <= startsAt) throw new HuitianError('VALIDATION_FAILED', { details: 'endsAt must be after startsAt' });
    const silence: Silence = { id: `sil_${randomBytes(10).toString('hex')}`, matchers: input.matchers, startsAt, endsAt: input.endsAt, comment: input.comment ?? '', createdBy, createdAt };
    await this.globalCommand('silence', { silence });
    await this.reader.waitFor(() => this.o.store.getSilence(silence.id) !== undefined, this.o.commandWaitMs);
    return silence;
  }

  /** Ends a silence now (event time) through the stage; the silence as this instance then lists it, undefined for an unknown id. */
  async expireSilence(id: string): Promise<Silence | undefined> {
    const stored = this.o.store.getSilence(id);
    if (stored === undefined) return undefined;
    const at = this.clock();
    if (stored.endsAt <= at) return stored;
    await this.globalCommand('silence-expire', { id, at });
    await this.reader.waitFor(() => this.o.store.getSilence(id)?.endsAt !== stored.endsAt, this.o.commandWaitMs);
    const now = this.o.store.getSilence(id)!;
    return now.endsAt !== stored.endsAt ? now : { ...stored, endsAt: Math.max(stored.startsAt, at) };
  }

  private async globalCommand(kind: string, body: Record<string, unknown>): Promise<void> {
    try {
      await this.producer.send({ topic: this.topics.global, acks: -1, messages: [{ partition: 0, key: null, value: JSON.stringify(body), headers: { [COMMAND_HEADER]: kind } }] });
    } catch (err) {
      throw new HuitianError('SOURCE_UNAVAILABLE', { details: `Kafka did not take the command: ${(err as Error).message}` }, { cause: err });
    }
  }

  /** The newest event-time clock among owned tasks (default KPI ranges); the wall clock when none. */
  clock(): number {
    let best = Number.NEGATIVE_INFINITY;
    for (const t of this.tasks.values()) if (t instanceof Task) best = Math.max(best, t.engine.clock(this.o.wallClock()));
    return Number.isFinite(best) ? best : this.o.wallClock();
  }

  status(zone: string = this.o.engineConfig.timeZone): { tasks: Array<{ task: string; state: 'active' | 'restoring'; next: string | null; lag: number | null; watermark: string | null }> } {
    const tasks = [...this.assigned].sort().map((id) => {
      const t = this.tasks.get(id);
      const m = this.meta.get(id);
      const wm = t instanceof Task ? t.engine.watermark : Number.NEGATIVE_INFINITY;
      return {
        task: id,
        state: (t === undefined ? 'restoring' : 'active') as 'active' | 'restoring',
        next: t?.next.toString() ?? null,
        lag: t !== undefined && m?.high != null ? Number(m.high - t.next) : null,
        watermark: Number.isFinite(wm) ? formatInZone(wm, zone) : null,
      };
    });
    return { tasks };
  }

  taskOfAlert(id: string): string | undefined {
    return this.reader.alertTasks.get(id);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // A stop while starting (a signal during start-up) lets the start finish first: closing
    // clients half-connected crashes the consumer instead of leaving the group.
    await this.starting?.catch(() => undefined);
    if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
    // Graceful (§8): no batch in flight, every task checkpointed and committed, then leave.
    const deadline = Date.now() + 30_000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.broken) {
      await Promise.all(
        [...this.tasks].map(([id, task]) => this.checkpoint(id, task).catch((err: unknown) => this.log.warn({ err, task: id }, 'final checkpoint failed; the next owner re-reads from the previous one'))),
      );
    }
    await this.consumer?.disconnect().catch(() => undefined);
    await this.reader?.stop().catch(() => undefined);
    await this.stopPartialsWorker().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.trouble = 'stopped';
  }
}

/** Bytes of messages per produce request: kafkajs sends a request's messages for one partition as one record batch, which must stay below the broker's 1 MiB `message.max.bytes`. */
export const REQUEST_BYTES = 512 * 1024;

/**
 * Messages cut into produce requests of at most REQUEST_BYTES (a message larger than that
 * goes alone). Sent one request after the other, so each key's records keep their order.
 * A batch of a gauge partition's readings can sample hundreds of points for many minutes:
 * its partials in one request were over the broker's limit once, and the write failed.
 */
export function requestsOf(topicMessages: ReadonlyArray<{ topic: string; messages: Message[] }>, limit = REQUEST_BYTES): Array<Array<{ topic: string; messages: Message[] }>> {
  const out: Array<Array<{ topic: string; messages: Message[] }>> = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const len = (v: Buffer | string | null | undefined) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  const size = (m: Message) => len(m.key) + len(m.value) + 64;
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) {
      const n = size(m);
      if (bytes > 0 && bytes + n > limit) {
        out.push([...current].map(([t, list]) => ({ topic: t, messages: list })));
        current = new Map();
        bytes = 0;
      }
      let list = current.get(topic);
      if (list === undefined) current.set(topic, (list = []));
      list.push(m);
      bytes += n;
    }
  }
  if (bytes > 0) out.push([...current].map(([t, list]) => ({ topic: t, messages: list })));
  return out;
}

/** A decoded event back in structured mode (an HTTP binary-mode request has no envelope text). */
function encodeStructured(e: HuitianEvent): string {
  const out: Record<string, unknown> = { specversion: '1.0', id: e.id, source: e.source, type: e.type, time: formatRfc3339(e.time) };
  if (e.subject !== undefined) out.subject = e.subject;
  out.data = e.data;
  return JSON.stringify(out);
}

