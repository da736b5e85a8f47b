/**
 * The one path every source feeds (DESIGN §1): decoded candidates → engine step →
 * one durable commit (input log entry, KPI partials, alert transitions, dead letters,
 * source checkpoints) → announcements → optional external KPI sink.
 *
 * Ordering is the guarantee: a step's effects are committed before anything about
 * them is announced or acknowledged to a source, so an announced alert is stored and
 * a committed offset never runs ahead of state (DESIGN §5, §6).
 *
 * Engine steps run synchronously and one at a time on the event loop; sources may
 * call from concurrent async contexts without interleaving a step.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { randomBytes } from 'node:crypto';
import { annotatedCopy } from '../alerts/alert-book.js';
import type { Alert, AlertChange } from '../alerts/alert.js';
import type { DeliveryPlanner } from '../delivery/planner.js';
import { Engine, type EngineConfig, type StepResult } from '../engine/engine.js';
import { DEFAULT_NOTIFICATIONS, type NotificationsConfig } from '../notifications/notifications-config.js';
import type { Silence, SilenceMatchers } from '../notifications/silences.js';
import { NotificationStage, type StageSnapshot } from '../notifications/stage.js';
import { decodeCheckpoint, type EngineCheckpoint } from '../engine/snapshot-chunks.js';
import { decodeNdjson } from '../events/ndjson.js';
import { FUTURE_REASON_PREFIX, LATE_REASON } from '../events/rejections.js';
import type { HuitianEvent } from '../events/schemas.js';
import { HuitianError } from '../errors.js';
import { ServiceMetrics } from '../metrics.js';
import type { AlertAnnouncer, CommittedAlertEvent, DeadLetter, DeadLetterForwarder, LogEntry, OutboxDelivery, SourcePosition } from '../ports.js';
import type { ChunkedSnapshot, EmbeddedStore } from '../sqlite/embedded-store.js';
import { formatInZone } from '../time/time-zone.js';

/** An event that decoded, with its position in the request/batch. */
export interface Candidate {
  index: number;
  event: HuitianEvent;
  /** The record's text as received: what it is dead-lettered as if refused (late, future). */
  raw: string;
  /** Where the record is in its source (Kafka), carried into its dead letter if refused. */
  source?: SourcePosition;
}

/** A record that did not decode. */
export interface Rejection {
  index: number;
  id: string | null;
  type: string | null;
  reason: string;
  raw: string;
  source?: SourcePosition;
}

export interface IngestReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: Array<{ index: number; id: string | null; reason: string }>;
}

/** An external KPI store the pipeline keeps in step (InfluxDB). */
export interface KpiSink {
  /**
   * Writes everything queued in the store's outbox; resolves once written, rejects when
   * the sink is unavailable (the outbox keeps what was not written; callers retry).
   */
  flush(): Promise<void>;
}

export interface PipelineOptions {
  engineConfig: EngineConfig;
  store: EmbeddedStore;
  logger: Logger;
  metrics: ServiceMetrics;
  wallClock: () => number;
  snapshotIntervalMs: number;
  announcers?: AlertAnnouncer[];
  forwarders?: DeadLetterForwarder[];
  kpiSink?: KpiSink;
  /** Called once when a durable commit fails; the process should stop and restart. */
  onFatal?: (err: Error) => void;
  /** Routes, escalation and receivers of the notification stage (issue 12). */
  notifications?: NotificationsConfig;
  /** Turns the stage's notifications into outbox rows; without it nothing is queued. */
  planner?: DeliveryPlanner;
  /** Called after a commit that queued deliveries (wakes the outbox worker). */
  onDeliveries?: () => void;
}

export interface SilenceInput {
  matchers: SilenceMatchers;
  startsAt?: number;
  endsAt: number;
  comment?: string;
}

export class Pipeline {
  readonly engine: Engine;
  /**
   * The notification stage, a processor of its own beside the engine (src/notifications/
   * stage.ts): fed each step's alert transitions and watermark, and the operators'
   * silences; its annotations go back into the alerts, its notifications into the outbox,
   * all in the step's one commit.
   */
  stage!: NotificationStage;
  private readonly store: EmbeddedStore;
  private readonly log: Logger;
  private readonly metrics: ServiceMetrics;
  private readonly now: () => number;
  private readonly announcers: AlertAnnouncer[];
  private readonly forwarders: DeadLetterForwarder[];
  private readonly kpiSink: KpiSink | undefined;
  private lastSnapshotAt: number;
  private readonly futureReason: string;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private readonly forwarding = new Set<Promise<void>>();
  /** Set when a commit failed: the engine is ahead of the store, so nothing more may run. */
  private broken: Error | null = null;
  /** A checkpoint being written a slice per event-loop turn (see maybeSnapshot). */
  private checkpoint: CheckpointJob | null = null;
  private readonly recentCheckpoints: CheckpointReport[] = [];
  private checkpointsWritten = 0;

  constructor(private readonly options: PipelineOptions) {
    this.store = options.store;
    this.log = options.logger;
    this.metrics = options.metrics;
    this.now = options.wallClock;
    this.announcers = options.announcers ?? [];
    this.forwarders = options.forwarders ?? [];
    this.kpiSink = options.kpiSink;
    const bound = Math.round(options.engineConfig.maxFutureMs / 1000);
    this.futureReason =
      options.engineConfig.timeMode === 'live'
        ? `${FUTURE_REASON_PREFIX}${bound} s ahead of the service clock (is the producer's clock wrong?)`
        : `${FUTURE_REASON_PREFIX}${bound} s ahead of the newest event time so far (is the producer's clock wrong? a stream quiet for longer needs a larger HUITIAN_MAX_FUTURE_S)`;
    this.engine = this.recover();
    this.lastSnapshotAt = this.now();
  }

  addAnnouncer(a: AlertAnnouncer): void {
    this.announcers.push(a);
  }

  addForwarder(f: DeadLetterForwarder): void {
    this.forwarders.push(f);
  }

  /**
   * Rebuilds the engine: the last snapshot, then every logged input after it, whose
   * effects are already in the store and are therefore discarded. The engine is
   * deterministic, so the state it reaches is the state it had.
   */
  private recover(): Engine {
    const { snapshot, log } = this.store.recovery();
    const config = this.options.engineConfig;
    let engine: Engine;
    let staged: StageSnapshot | undefined;
    if (snapshot === null) {
      engine = new Engine(config);
    } else if (Array.isArray(snapshot)) {
      const decoded = decodeCheckpoint(snapshot);
      engine = Engine.restoreDecoded(config, decoded);
      staged = decoded.state.notificationStage as StageSnapshot | undefined;
    } else {
      engine = Engine.restore(config, snapshot);
      staged = snapshot.notificationStage as StageSnapshot | undefined;
    }
    const notifications = this.options.notifications ?? DEFAULT_NOTIFICATIONS;
    this.stage = staged === undefined ? new NotificationStage(notifications) : NotificationStage.restore(notifications, staged);
    let replayed = 0;
    for (const { entry } of log) {
      // The stage is replayed beside the engine: its outputs are already in the store (they
      // were committed with the entry), but its annotations are engine state again.
      if (entry.kind === 'silence') this.stage.addSilence(entry.silence);
      else if (entry.kind === 'silence-expire') this.stage.expireSilence(entry.id, entry.at);
      const step = applyEntry(engine, entry);
      this.runStage(engine, step?.alerts ?? [], step?.watermark ?? engine.watermark, true);
      replayed++;
    }
    if (snapshot !== null || replayed > 0) {
      this.log.info({ fromSnapshot: snapshot !== null, replayedInputs: replayed, stats: engine.stats() }, 'engine state recovered');
    }
    // Nothing is served yet, so this one is written at once; so is one in the old format,
    // which recovery then never has to read again.
    if (replayed > 0 || (snapshot !== null && !Array.isArray(snapshot))) this.store.writeSnapshotChunks(chunksOf(this.checkpointOf(engine)), this.now());
    return engine;
  }

  /** The engine's checkpoint, with the notification stage's state beside its own. */
  private checkpointOf(engine: Engine): EngineCheckpoint {
    return engine.checkpoint({ notificationStage: this.stage.snapshot() });
  }

  /**
   * Feeds a step's transitions to the notification stage and applies what it decided: its
   * history entries go into the alert (the engine's, or the stored document of an alert
   * resolved since), its notifications become outbox rows. Recovering, only the engine
   * state matters: everything else was committed with the input.
   */
  private runStage(engine: Engine, changes: readonly AlertChange[], watermark: number, recovering: boolean): { changes: AlertChange[]; deliveries: OutboxDelivery[] } {
    this.stage.offer(changes);
    const out = this.stage.advance(watermark);
    const extra: AlertChange[] = [];
    for (const a of out.annotations) {
      const applied = engine.annotate(a.alertId, a.entry, a.silencedBy);
      if (applied !== undefined) {
        extra.push(...applied);
        continue;
      }
      if (recovering) continue;
      const base = lastDocOf(extra, a.alertId) ?? lastDocOf(changes, a.alertId) ?? this.store.getAlert(a.alertId);
      if (base === undefined) continue;
      extra.push({ action: a.entry.action, alert: annotatedCopy(base, a.entry, a.silencedBy) });
    }
    const deliveries: OutboxDelivery[] = [];
    if (!recovering && this.options.planner !== undefined) {
      for (const n of out.notifications) deliveries.push(...this.options.planner.plan(n));
    }
    if (!recovering) {
      this.metrics.notificationsDecided.inc(out.notifications.length);
      for (const c of changes) {
        if (c.action === 'resolved' && c.alert.acknowledgedAt === null) this.metrics.alertsUnacknowledged.inc({ category: c.alert.category, severity: c.alert.severity });
      }
    }
    return { changes: extra, deliveries };
  }

  /** Runs one batch from a source through the engine and commits its effects. */
  ingest(
    channel: string,
    candidates: readonly Candidate[],
    rejections: readonly Rejection[],
    options: {
      idleAfter?: boolean;
      checkpoints?: ReadonlyArray<readonly [string, string]>;
      /** NDJSON text (or its UTF-8 bytes) whose lines that decode are exactly `candidates`, in order: logged as is. */
      ndjson?: string | Uint8Array;
    } = {},
  ): IngestReport {
    this.assertHealthy();
    const now = this.now();
    const m = this.metrics;
    const events = candidates.map((c) => c.event);
    const counted = {
      in: new TypeCounts(),
      accepted: new TypeCounts(),
      duplicate: new TypeCounts(),
      late: new TypeCounts(),
      future: new TypeCounts(),
      conflict: new TypeCounts(),
      rejected: new TypeCounts(),
    };
    for (const c of candidates) counted.in.add(c.event.type);
    for (const r of rejections) {
      counted.in.add(ServiceMetrics.typeLabel(r.type));
      counted.rejected.add(ServiceMetrics.typeLabel(r.type));
    }
    const idleAfter = options.idleAfter ?? false;
    const watermarkBefore = this.engine.watermark;
    const step = this.engine.ingest(events, channel, now, idleAfter);
    const report: IngestReport = { accepted: 0, duplicates: 0, rejected: rejections.length, errors: [] };
    const deadLetters: DeadLetter[] = rejections.map((r) => ({
      receivedAt: now,
      channel,
      eventId: r.id,
      type: r.type,
      reason: r.reason,
      payload: r.raw,
      ...(r.source === undefined ? {} : { source: r.source }),
    }));
    const errors: IngestReport['errors'] = rejections.map((r) => ({ index: r.index, id: r.id, reason: r.reason }));
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      const outcome = step.outcomes[i];
      if (outcome === 'accepted') {
        report.accepted++;
        counted.accepted.add(c.event.type);
      } else if (outcome === 'duplicate') {
        report.duplicates++;
        counted.duplicate.add(c.event.type);
      } else {
        report.rejected++;
        let reason: string;
        if (outcome === 'late') {
          reason = LATE_REASON;
          counted.late.add(c.event.type);
        } else if (outcome === 'conflict') {
          reason = step.conflicts.find((x) => x.index === i)!.reason;
          counted.conflict.add(c.event.type);
        } else {
          reason = this.futureReason;
          counted.future.add(c.event.type);
        }
        errors.push({ index: c.index, id: c.event.id, reason });
        deadLetters.push({
          receivedAt: now,
          channel,
          eventId: c.event.id,
          type: c.event.type,
          reason,
          payload: c.raw,
          ...(c.source === undefined ? {} : { source: c.source }),
        });
      }
    }
    counted.in.incrementInto(m.eventsIn);
    counted.accepted.incrementInto(m.eventsAccepted);
    counted.duplicate.incrementInto(m.eventsDuplicate);
    counted.late.incrementInto(m.eventsLate);
    counted.future.incrementInto(m.eventsFuture);
    counted.conflict.incrementInto(m.eventsConflict);
    counted.rejected.incrementInto(m.eventsRejected);
    report.errors = errors.sort((a, b) => a.index - b.index);
    // Every input that changed engine state is logged, so recovery replays it. A batch of
    // nothing but invalid records changes only the dead letters — unless, in live mode,
    // the wall clock moved the watermark on while it was processed.
    const changed = events.length > 0 || idleAfter || step.watermark !== watermarkBefore || step.partials.length > 0 || step.alerts.length > 0;
    let log: LogEntry | null = null;
    if (changed) {
      log =
        options.ndjson === undefined
          ? { kind: 'events', channel, now, idleAfter, events }
          : { kind: 'events-ndjson', channel, now, idleAfter, ndjson: options.ndjson };
    }
    this.commit(log, step, deadLetters, options.checkpoints);
    return report;
  }

  /** Live-mode clock tick: lets quiet input advance event time. */
  tick(): void {
    if (this.broken !== null) return;
    const before = this.engine.watermark;
    const now = this.now();
    const step = this.engine.tick(now);
    if (step.watermark === before && step.partials.length === 0 && step.alerts.length === 0) return;
    this.commit({ kind: 'tick', now }, step, []);
  }

  /** A source reports a channel caught up (a Kafka partition at its high-water mark). */
  markIdle(channel: string): void {
    this.assertHealthy();
    const now = this.now();
    // Logged even when nothing visible changed: the idle flag is engine state, and
    // recovery must replay it to reach the same watermark later.
    const step = this.engine.markIdle(channel, now);
    this.commit({ kind: 'idle', channel, now }, step, []);
  }

  /** A source is delivering again: its idle channels hold event time back once more. */
  activateChannels(channels: readonly string[]): void {
    this.assertHealthy();
    const now = this.now();
    const step = this.engine.activateChannels(channels, now);
    this.commit({ kind: 'activate-channels', channels: [...channels], now }, step, []);
  }

  /** A source declares a channel before its first event (an assigned Kafka partition). */
  registerChannel(channel: string): void {
    this.assertHealthy();
    const now = this.now();
    const step = this.engine.registerChannel(channel, now);
    this.commit({ kind: 'register-channel', channel, now }, step, []);
  }

  /** A source lost a channel (a revoked partition). */
  removeChannel(channel: string): void {
    this.assertHealthy();
    const now = this.now();
    const step = this.engine.removeChannel(channel, now);
    this.commit({ kind: 'remove-channel', channel, now }, step, []);
  }

  acknowledge(alertId: string, by: string, note?: string, until?: number): Alert {
    return this.operate('ack', alertId, by, note, until);
  }

  resolve(alertId: string, by: string, note?: string): Alert {
    return this.operate('resolve', alertId, by, note);
  }

  private operate(kind: 'ack' | 'resolve', alertId: string, by: string, note: string | undefined, until?: number): Alert {
    this.assertHealthy();
    const now = this.now();
    if (kind === 'ack' && until !== undefined && until <= this.engine.clock(now)) {
      throw new HuitianError('VALIDATION_FAILED', { details: `until must be after the stream's event-time clock (${formatInZone(this.engine.clock(now), this.options.engineConfig.timeZone)})` });
    }
    const result = kind === 'ack' ? this.engine.acknowledge(alertId, by, note, now, until) : this.engine.resolve(alertId, by, note, now);
    const action = kind === 'ack' ? 'acknowledged' : 'resolved';
    if (!result.ok) {
      const stored = this.store.getAlert(alertId);
      if (stored === undefined) throw new HuitianError('ALERT_NOT_FOUND', { id: alertId });
      throw new HuitianError('ALERT_TRANSITION_NOT_ALLOWED', { id: alertId, status: stored.status, action });
    }
    const entry: LogEntry = note === undefined ? { kind, alertId, by, now } : { kind, alertId, by, note, now };
    if (kind === 'ack' && until !== undefined) (entry as Extract<LogEntry, { kind: 'ack' }>).until = until;
    this.commit(entry, result.step, []);
    return this.engine.activeAlert(alertId) ?? result.alert;
  }

  /**
   * A silence (operator input): logged, so a restart replays it in the same place among
   * the inputs and the stage decides the same way. Times are event time.
   */
  createSilence(input: SilenceInput, createdBy: string): Silence {
    this.assertHealthy();
    const now = this.now();
    const createdAt = this.engine.clock(now);
    const startsAt = input.startsAt ?? createdAt;
    if (input.endsAt <= startsAt) throw new HuitianError('VALIDATION_FAILED', { details: 'endsAt must be after startsAt' });
    const silence: Silence = {
      id: `sil_${randomBytes(10).toString('hex')}`,
      matchers: input.matchers,
      startsAt,
      endsAt: input.endsAt,
      comment: input.comment ?? '',
      createdBy,
      createdAt,
    };
    this.stage.addSilence(silence);
    this.commit({ kind: 'silence', silence, now }, this.engine.tick(now), [], undefined, [silence]);
    return silence;
  }

  /** Ends a silence now (event time); the silence as stored, or undefined for an unknown id. */
  expireSilence(id: string): Silence | undefined {
    this.assertHealthy();
    const stored = this.store.getSilence(id);
    if (stored === undefined) return undefined;
    const now = this.now();
    const at = this.engine.clock(now);
    const changed = this.stage.expireSilence(id, at);
    if (changed === undefined) return stored;
    const silence = { ...stored, endsAt: changed.endsAt };
    this.commit({ kind: 'silence-expire', id, at, now }, this.engine.tick(now), [], undefined, [silence]);
    return silence;
  }

  private commit(
    log: LogEntry | null,
    step: StepResult,
    deadLetters: DeadLetter[],
    checkpoints?: ReadonlyArray<readonly [string, string]>,
    silences?: readonly Silence[],
  ): void {
    const started = performance.now();
    let committed: CommittedAlertEvent[];
    let deliveries: OutboxDelivery[] = [];
    try {
      const staged = this.runStage(this.engine, step.alerts, step.watermark, false);
      deliveries = staged.deliveries;
      const alerts = staged.changes.length === 0 ? step.alerts : [...step.alerts, ...staged.changes];
      committed = this.store.commit({ log, partials: step.partials, alerts, deadLetters, checkpoints, deliveries, silences });
    } catch (err) {
      // The engine has moved on but the store has not: continuing would announce or
      // acknowledge state that a restart would not have. Stop; a restart recovers.
      this.broken = err as Error;
      this.log.fatal({ err }, 'durable commit failed; stopping so that a restart recovers from the store');
      this.options.onFatal?.(err as Error);
      throw new HuitianError('STORE_UNAVAILABLE', { details: (err as Error).message }, { cause: err });
    }
    this.metrics.commitDuration.observe((performance.now() - started) / 1000);
    if (deliveries.length > 0) {
      for (const d of deliveries) this.metrics.notificationsQueued.inc({ receiver: d.receiver });
      this.options.onDeliveries?.();
    }
    if (Number.isFinite(step.watermark)) this.metrics.watermark.set(step.watermark / 1000);
    if (committed.length > 0) {
      for (const a of this.announcers) {
        try {
          const p = a.announce(committed);
          if (p instanceof Promise) p.catch((err: unknown) => this.log.error({ err }, 'alert announcement failed'));
        } catch (err) {
          this.log.error({ err }, 'alert announcement failed');
        }
      }
    }
    if (deadLetters.length > 0) {
      for (const f of this.forwarders) {
        const p = f
          .forward(deadLetters)
          .catch((err: unknown) => this.log.warn({ err, count: deadLetters.length }, 'dead-letter forwarding failed; the records stay in the dead-letter store'))
          .finally(() => this.forwarding.delete(p));
        this.forwarding.add(p);
      }
    }
    if (this.kpiSink !== undefined && step.partials.length > 0) {
      // Started eagerly; a failure is retried by the sources and the service's flusher,
      // and the outbox keeps what was not written.
      this.flushSink().catch((err: unknown) => this.log.debug({ err }, 'eager KPI flush failed; will retry'));
    }
    this.maybeSnapshot();
  }

  /**
   * Writes the queued partials to the external KPI sink. Concurrent callers share one
   * flush; a call during a flush schedules one more so nothing queued is missed.
   */
  flushSink(): Promise<void> {
    if (this.kpiSink === undefined) return Promise.resolve();
    if (this.flushing !== null) {
      this.flushAgain = true;
      return this.flushing;
    }
    const sink = this.kpiSink;
    const run = async (): Promise<void> => {
      try {
        do {
          this.flushAgain = false;
          await sink.flush();
        } while (this.flushAgain);
      } finally {
        // Cleared in the same turn as the last flushAgain test, so a commit landing
        // afterwards starts a new flush instead of setting a flag nobody reads.
        this.flushing = null;
      }
    };
    this.flushing = run();
    return this.flushing;
  }

  private assertHealthy(): void {
    if (this.broken !== null) throw new HuitianError('STORE_UNAVAILABLE', { details: this.broken.message });
  }

  /** Resolves once every dead letter committed so far has been forwarded (or given up on). */
  async forwardsSettled(): Promise<void> {
    while (this.forwarding.size > 0) await Promise.all([...this.forwarding]);
  }

  get hasKpiSink(): boolean {
    return this.kpiSink !== undefined;
  }

  /**
   * Checkpoints the engine every snapshot interval without holding the event loop: the
   * state is captured at once (a copy, tens of ms with millions of remembered ids), then
   * its chunks are encoded a few per event-loop turn, each turn at most CHECKPOINT_SLICE_MS,
   * and appended to the checkpoint's file by libuv's thread pool, while requests and ingest
   * go on between them. Once the file is synced, one small transaction makes it the
   * snapshot recovery starts from and drops the log it covers.
   */
  private maybeSnapshot(): void {
    // After a failed commit the engine holds state the store never got; snapshotting it
    // would make that state durable and lose the input a restart should replay.
    if (this.broken !== null || this.checkpoint !== null) return;
    const now = this.now();
    if (now - this.lastSnapshotAt < this.options.snapshotIntervalMs) return;
    this.lastSnapshotAt = now;
    const started = performance.now();
    const job: CheckpointJob = { chunks: this.checkpointOf(this.engine), target: this.store.beginSnapshot(), takenAt: now, started, captureMs: 0 };
    job.captureMs = performance.now() - started;
    this.checkpoint = job;
    this.metrics.checkpointCapture.observe(job.captureMs / 1000);
    this.writeCheckpoint(job).catch((err: unknown) => {
      // The previous snapshot and the log are intact: recovery still works, only from further back.
      if (this.checkpoint === job) this.checkpoint = null;
      this.log.error({ err }, 'engine snapshot failed; the next interval tries again');
    });
  }

  private async writeCheckpoint(job: CheckpointJob): Promise<void> {
    const file = await this.store.snapshots.create(job.target.generation);
    const live = () => this.checkpoint === job && this.broken === null;
    let chunks = 0;
    let bytes = 0;
    let busyMs = job.captureMs;
    let longestTurnMs = 0;
    try {
      for (let done = false; !done; ) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!live()) return await file.abandon();
        const turnStarted = performance.now();
        const batch: Uint8Array[] = [];
        do {
          const chunk = job.chunks.next();
          if (chunk === undefined) {
            done = true;
            break;
          }
          batch.push(chunk);
          bytes += chunk.length;
        } while (performance.now() - turnStarted < CHECKPOINT_SLICE_MS);
        chunks += batch.length;
        const turnMs = performance.now() - turnStarted;
        busyMs += turnMs;
        longestTurnMs = Math.max(longestTurnMs, turnMs);
        if (batch.length > 0) await file.append(batch);
      }
      await file.finish();
    } catch (err) {
      await file.abandon().catch(() => undefined);
      throw err;
    }
    if (!live()) return;
    const switchStarted = performance.now();
    this.store.finishSnapshot(job.target, job.takenAt);
    this.checkpoint = null;
    const switchMs = performance.now() - switchStarted;
    const longest = Math.max(longestTurnMs, job.captureMs, switchMs);
    this.metrics.checkpointDuration.observe((performance.now() - job.started) / 1000);
    this.metrics.checkpointLongestPause.observe(longest / 1000);
    const report: CheckpointReport = {
      startedAt: job.takenAt,
      finishedAt: this.now(),
      chunks,
      bytes,
      captureMs: job.captureMs,
      busyMs: busyMs + switchMs,
      longestPauseMs: longest,
      elapsedMs: performance.now() - job.started,
    };
    this.recentCheckpoints.push(report);
    if (this.recentCheckpoints.length > 16) this.recentCheckpoints.shift();
    this.checkpointsWritten++;
    this.log.debug(report, 'engine snapshot written');
  }

  /** How many checkpoints were written in slices, whether one is being written, and what the last ones cost. */
  checkpointStats(): { written: number; inProgress: boolean; last: CheckpointReport | null; recent: CheckpointReport[] } {
    const recent = [...this.recentCheckpoints];
    return { written: this.checkpointsWritten, inProgress: this.checkpoint !== null, last: recent[recent.length - 1] ?? null, recent };
  }

  /**
   * Graceful shutdown: a final snapshot written at once (nothing is served any more), so
   * the next start replays nothing; one still being written in slices is abandoned.
   */
  snapshotNow(): void {
    if (this.broken !== null) return;
    this.checkpoint = null;
    this.lastSnapshotAt = this.now();
    this.store.writeSnapshotChunks(chunksOf(this.checkpointOf(this.engine)), this.lastSnapshotAt);
  }
}

/** At most this long per event-loop turn is spent encoding and writing checkpoint chunks. */
const CHECKPOINT_SLICE_MS = 8;

interface CheckpointJob {
  chunks: EngineCheckpoint;
  target: ChunkedSnapshot;
  takenAt: number;
  started: number;
  captureMs: number;
}

export interface CheckpointReport {
  /** Wall-clock ms of the capture and of the switch to the new snapshot. */
  startedAt: number;
  finishedAt: number;
  chunks: number;
  bytes: number;
  /** The synchronous capture of the state. */
  captureMs: number;
  /** Event-loop time spent on it in all (the file is written and synced off the event loop). */
  busyMs: number;
  /** The longest the event loop was held in one go: the capture, one turn of encoding, or the switch. */
  longestPauseMs: number;
  /** From capture to the switch. */
  elapsedMs: number;
}

function* chunksOf(checkpoint: EngineCheckpoint): Generator<Uint8Array> {
  for (let c = checkpoint.next(); c !== undefined; c = checkpoint.next()) yield c;
}

/**
 * Events counted by type over a batch, then added to a Prometheus counter once per type:
 * a labelled increment hashes its labels, which per event was a visible cost at ingest rates.
 */
class TypeCounts {
  private readonly counts = new Map<string, number>();

  add(type: string): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  incrementInto(counter: Counter<'type'>): void {
    for (const [type, n] of this.counts) counter.inc({ type }, n);
  }
}

/** Re-applies one logged input to an engine (recovery); its step, for the notification stage. */
export function applyEntry(engine: Engine, entry: LogEntry): StepResult | null {
  switch (entry.kind) {
    case 'events':
      return engine.ingest(entry.events, entry.channel, entry.now, entry.idleAfter);
    case 'events-ndjson': {
      const events: HuitianEvent[] = [];
      const text = typeof entry.ndjson === 'string' ? entry.ndjson : Buffer.from(entry.ndjson.buffer, entry.ndjson.byteOffset, entry.ndjson.byteLength).toString('utf8');
      decodeNdjson(text, (_index, _line, decoded) => {
        if (decoded.ok) events.push(decoded.event);
      });
      return engine.ingest(events, entry.channel, entry.now, entry.idleAfter);
    }
    case 'tick':
      return engine.tick(entry.now);
    case 'idle':
      return engine.markIdle(entry.channel, entry.now);
    case 'remove-channel':
      return engine.removeChannel(entry.channel, entry.now);
    case 'register-channel':
      return engine.registerChannel(entry.channel, entry.now);
    case 'activate-channels':
      return engine.activateChannels(entry.channels, entry.now);
    case 'ack': {
      const r = engine.acknowledge(entry.alertId, entry.by, entry.note, entry.now, entry.until);
      return r.ok ? r.step : null;
    }
    case 'resolve': {
      const r = engine.resolve(entry.alertId, entry.by, entry.note, entry.now);
      return r.ok ? r.step : null;
    }
    case 'silence':
    case 'silence-expire':
      // Inputs of the notification stage; the engine only lets time pass as it did then.
      return engine.tick(entry.now);
  }
}

function lastDocOf(changes: readonly AlertChange[], id: string): Alert | undefined {
  for (let i = changes.length - 1; i >= 0; i--) if (changes[i]!.alert.id === id) return changes[i]!.alert;
  return undefined;
}
