/**
 * The event-time engine: the pure core every source feeds (DESIGN §1–5).
 *
 * It is fed batches of decoded events (with the input channel they came on and the
 * wall time of arrival), clock ticks, and operators' acknowledgements; it returns what
 * changed: per-event outcomes, KPI partial deltas and alert transitions. It performs
 * no I/O and reads no clock, so feeding it the same inputs gives the same outputs,
 * which is how a restart rebuilds its state from a snapshot plus the input log.
 *
 * Per event: duplicate check (source, id) → lateness check against the watermark →
 * future guard → conflict check (a reused incident id) →
 * KPI state and rules that act on arrival → watermark advance → every event-time
 * timer and minute sample the watermark has now passed, in event-time order.
 */
import { AlertBook, type TransitionRefusal } from '../alerts/alert-book.js';
import type { Alert, AlertChange, AlertHistoryEntry } from '../alerts/alert.js';
import { gasLeakRule, onGasReading } from '../alerts/gas-leak.js';
import { KpiBreachRule } from '../alerts/kpi-breach.js';
import { ParkingFullRule } from '../alerts/parking-full.js';
import { DEFAULT_RULES, type RulesConfig } from '../alerts/rules-config.js';
import { SensorSilenceRule } from '../alerts/sensor-silence.js';
import { UtilityAlarmRule } from '../alerts/utility-alarm.js';
import { onWaterloggingReading, waterloggingDepthRule } from '../alerts/waterlogging-depth.js';
import type { HuitianEvent } from '../events/schemas.js';
import { recordAcknowledgement } from '../kpis/alert-ack.js';
import { FireResponseTracker } from '../kpis/fire-response.js';
import { ParkingGauge } from '../kpis/parking.js';
import { BUCKET_MS, bucketOf, PartialBuffer, UNKNOWN, type PartialDelta } from '../kpis/partials.js';
import { UtilityAlarmsGauge } from '../kpis/utility-alarms.js';
import { WaterloggingGauge } from '../kpis/waterlogging.js';
import { DedupIndex, type DedupSnapshot } from '../time/dedup.js';
import { DEFAULT_TIME_ZONE } from '../time/time-zone.js';
import { TimerQueue } from '../time/timer-queue.js';
import { WatermarkTracker, type TimeMode } from '../time/watermark.js';
import { decodeCheckpoint, encodeCheckpoint, type DecodedCheckpoint, type EngineCheckpoint } from './snapshot-chunks.js';
import { STALE_ENTITY_MS, type FireClockStart, type StepContext } from './step-context.js';

export interface EngineConfig {
  /** Allowed lateness: how far behind the newest event time an event may still arrive. */
  latenessMs: number;
  timeMode: TimeMode;
  /** Live mode: a channel silent this long (wall time) stops holding the watermark back. */
  idleTimeoutMs: number;
  /** How long (event time, beyond the watermark) an event's (source, id) is remembered. */
  dedupRetentionMs: number;
  /**
   * Size bound of the remembered (source, id) pairs, estimated bytes (see DedupIndex): past
   * it the oldest minute is forgotten and its events are refused as late from then on.
   */
  dedupMaxBytes: number;
  fireClockStart: FireClockStart;
  rules: RulesConfig;
  /** IANA zone of the times written into alert texts (HUITIAN_TIMEZONE); nothing computed depends on it. */
  timeZone: string;
  /**
   * An event stamped more than this far ahead is refused as `future`: in live mode ahead of
   * the wall clock; in replay mode, which has no clock, ahead of the newest event time of
   * the stream so far (once it has one). One event from a sensor whose clock is a year (or
   * a time zone) ahead would otherwise push the watermark on and make every honest event
   * after it late. Replay compares with the newest event time rather than the watermark:
   * while Kafka partitions are read up, the watermark waits for the slowest of them, and a
   * sparse topic read ahead of it is no clock error.
   */
  maxFutureMs: number;
  /**
   * At most this many minutes are sampled for gauges in one watermark jump. A jump
   * across a longer quiet gap samples only its last part; the rest is counted.
   */
  maxGapMinutes: number;
  /**
   * Seed of the dedup index's id hash. Answers never depend on it; a seed producers cannot
   * guess keeps ids crafted to collide from slowing the index down. The service draws one
   * at start-up; the default 0 keeps tests and benchmarks reproducible.
   */
  dedupHashSeed?: number;
  /**
   * Whether rules that need the whole stream (`kpi_breach`) run in this engine. A cluster
   * task sees one partition, so there they run in the global stage instead, fed by the
   * task's minute reports (StepResult.minuteReports).
   */
  globalRules?: boolean;
}

/**
 * The future guard's default bound by time mode. Live: 10 minutes ahead of the wall clock
 * (clocks drift; a minute's batching is normal). Replay: 24 hours ahead of the stream. A
 * replay cannot tell a quiet gap from a clock error, and a gap longer than the bound would
 * refuse the rest of the stream, so the bound is wider than any quiet gap of a real stream:
 * a week of fire and rescue calls alone (`simulate --scenario fire-week`) has gaps of up to
 * 10 hours. It still refuses the errors that poisoned replays: a wrong date, a wrong year.
 */
export const DEFAULT_MAX_FUTURE_MS: Readonly<Record<TimeMode, number>> = { live: 600_000, replay: 86_400_000 };

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  latenessMs: 60_000,
  timeMode: 'live',
  idleTimeoutMs: 5_000,
  dedupRetentionMs: 15 * 60_000,
  dedupMaxBytes: 256 * 1024 * 1024,
  fireClockStart: 'dispatched',
  rules: DEFAULT_RULES,
  timeZone: DEFAULT_TIME_ZONE,
  maxGapMinutes: 7 * 24 * 60,
  maxFutureMs: DEFAULT_MAX_FUTURE_MS.live,
};

export type EventOutcome = 'accepted' | 'duplicate' | 'late' | 'future' | 'conflict';

export interface StepResult {
  /** One per input event, in input order. */
  outcomes: EventOutcome[];
  /** Why each `conflict` outcome was refused (what differs), by input index. */
  conflicts: ReadonlyArray<{ index: number; reason: string }>;
  partials: PartialDelta[];
  alerts: AlertChange[];
  watermark: number;
  /**
   * With `globalRules: false`: per minute boundary the watermark passed at which the
   * task's fire counts changed, the absolute counts of the changed buckets (see
   * global-stage.ts). Empty otherwise.
   */
  minuteReports: MinuteReport[];
}

export interface MinuteReport {
  boundary: number;
  /** [received-minute bucket, covered, decided], absolute for this engine. */
  buckets: Array<[number, number, number]>;
}

export interface EngineStats {
  accepted: number;
  duplicates: number;
  late: number;
  /** Events refused as stamped too far ahead (of the wall clock live, of the watermark in replay). */
  future: number;
  /** Events refused as contradicting what is known (a reused incident id). */
  conflicts: number;
  watermark: number | null;
  maxEventTime: number | null;
  activeAlerts: number;
  pendingIncidents: number;
  evictedUnresolvedIncidents: number;
  waterloggingPoints: number;
  parkingLots: number;
  dedupKeys: number;
  /** Estimated bytes of the remembered keys, which `dedupMaxBytes` bounds. */
  dedupBytes: number;
  /** Keys forgotten early because the size bound was reached. */
  dedupEvictedKeys: number;
  /** Events refused as late only because the size bound had forgotten their minute (also in `late`). */
  lateBelowDedupFloor: number;
  timers: number;
  gaugeMinutesSkipped: number;
}

export type AlertOperation = { ok: true; alert: Alert; step: StepResult } | { ok: false; refusal: TransitionRefusal };

const NO_CONFLICTS: StepResult['conflicts'] = Object.freeze([]);

export const SNAPSHOT_VERSION = 1;

/** Timer kind: an acknowledgement's `until` (key = alert id). */
const ACK_UNTIL_TIMER = 'ack-until';

export interface EngineSnapshot {
  version: number;
  [part: string]: unknown;
}

export class Engine {
  private readonly watermarks: WatermarkTracker;
  private readonly dedup: DedupIndex;
  private readonly timers = new TimerQueue();
  private readonly partials: PartialBuffer;
  private reports: MinuteReport[] = [];
  private changes: AlertChange[] = [];
  private readonly alerts = new AlertBook((c) => this.changes.push(c));
  private readonly breach = new KpiBreachRule();
  private readonly fire = new FireResponseTracker(this.breach);
  private readonly waterlogging = new WaterloggingGauge();
  private readonly parking = new ParkingGauge();
  private readonly utilityAlarms = new UtilityAlarmsGauge();
  private readonly depthRule;
  private readonly gasRule;
  private readonly alarmRule = new UtilityAlarmRule();
  private readonly parkingRule = new ParkingFullRule();
  private readonly silenceRule = new SensorSilenceRule();
  private readonly ctx: StepContext;
  /** Start of the next minute to sample is lastSampled + 1 min; null before the first event. */
  private lastSampled: number | null = null;
  /**
   * Earliest accepted event time until sampling starts. Sampling starts with that
   * event's minute, or the watermark's if earlier, once the watermark is first finite:
   * every event accepted later is at or after the watermark, so no sampled minute can
   * miss a reading, whichever channel or order the events came in.
   */
  private earliestBeforeSampling: number | null = null;
  private sampledSincePrune = 0;
  private counters = { accepted: 0, duplicates: 0, late: 0, future: 0, conflicts: 0, gaugeMinutesSkipped: 0, lateBelowDedupFloor: 0 };
  private conflicts: Array<{ index: number; reason: string }> = [];

  /**
   * `partials`: where KPI modules write their deltas. A cluster task passes one that keeps
   * absolute values (engine/task-partials.ts); by default deltas are merged per step.
   */
  constructor(
    readonly config: EngineConfig = DEFAULT_ENGINE_CONFIG,
    partials: PartialBuffer = new PartialBuffer(),
  ) {
    this.partials = partials;
    this.breach.tracking = config.globalRules === false;
    this.watermarks = new WatermarkTracker({
      latenessMs: config.latenessMs,
      mode: config.timeMode,
      idleTimeoutMs: config.idleTimeoutMs,
    });
    this.dedup = new DedupIndex(config.dedupRetentionMs, config.dedupHashSeed ?? 0, config.dedupMaxBytes);
    this.depthRule = waterloggingDepthRule(config.rules);
    this.gasRule = gasLeakRule(config.rules);
    const engine = this;
    this.ctx = {
      partials: this.partials,
      alerts: this.alerts,
      timers: this.timers,
      rules: config.rules,
      mode: config.timeMode,
      fireClockStart: config.fireClockStart,
      timeZone: config.timeZone,
      get watermark() {
        return engine.watermarks.watermark;
      },
    };
  }

  get watermark(): number {
    return this.watermarks.watermark;
  }

  /**
   * Processes a batch of decoded events that arrived on `channel` at wall time `now`.
   * `channelIdleAfter`: the channel has nothing more for now (an HTTP request is
   * complete, a partition caught up), so it stops holding the watermark back.
   */
  ingest(events: readonly HuitianEvent[], channel: string, now: number, channelIdleAfter = false): StepResult {
    const outcomes: EventOutcome[] = new Array(events.length);
    const wm = this.watermarks;
    const live = this.config.timeMode === 'live';
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (this.dedup.has(e.source, e.id)) {
        outcomes[i] = 'duplicate';
        this.counters.duplicates++;
        continue;
      }
      if (wm.isLate(e.time)) {
        outcomes[i] = 'late';
        this.counters.late++;
        continue;
      }
      if (e.time < this.dedup.floor) {
        // Its minute's keys were forgotten at the size bound: a repeat could not be told.
        outcomes[i] = 'late';
        this.counters.late++;
        this.counters.lateBelowDedupFloor++;
        continue;
      }
      // Before the stream's first event (maxSeen −∞) replay has nothing to compare with.
      if (e.time > (live ? now : wm.maxSeen) + this.config.maxFutureMs && (live || wm.maxSeen !== Number.NEGATIVE_INFINITY)) {
        outcomes[i] = 'future';
        this.counters.future++;
        continue;
      }
      if (e.type === 'huitian.dispatch.received') {
        const conflict = this.fire.conflictOf(e, this.config.timeZone);
        if (conflict !== null) {
          // Not remembered for dedup: a redelivery is refused the same way.
          outcomes[i] = 'conflict';
          this.counters.conflicts++;
          this.conflicts.push({ index: i, reason: conflict });
          continue;
        }
      }
      this.dedup.add(e.source, e.id, e.time);
      outcomes[i] = 'accepted';
      this.counters.accepted++;
      if (this.lastSampled === null && (this.earliestBeforeSampling === null || e.time < this.earliestBeforeSampling)) {
        this.earliestBeforeSampling = e.time;
      }
      wm.observe(channel, e.time, now);
      this.apply(e);
      wm.advance(now);
      this.runDue();
    }
    if (channelIdleAfter) wm.markIdle(channel);
    wm.advance(now);
    this.runDue();
    this.dedup.prune(wm.watermark);
    return this.flush(outcomes);
  }

  /** Wall-clock tick: in live mode idle channels stop holding time back and quiet input lets time pass. */
  tick(now: number): StepResult {
    this.watermarks.advance(now);
    this.runDue();
    return this.flush([]);
  }

  /** A source says a channel has caught up (see `ingest`). */
  markIdle(channel: string, now: number): StepResult {
    this.watermarks.markIdle(channel);
    return this.tick(now);
  }

  /** A source takes back its channels' idle marks (see WatermarkTracker.activate). */
  activateChannels(channels: readonly string[], now: number): StepResult {
    for (const c of channels) this.watermarks.activate(c, now);
    return this.tick(now);
  }

  /** A source declares a channel before its first event (see WatermarkTracker.register). */
  registerChannel(channel: string, now: number): StepResult {
    this.watermarks.register(channel, now);
    return this.tick(now);
  }

  /** A source lost a channel (a revoked partition); it no longer holds time back. */
  removeChannel(channel: string, now: number): StepResult {
    this.watermarks.removeChannel(channel);
    return this.tick(now);
  }

  /** The stream's event-time "now", which stamps operators' actions. */
  clock(now: number): number {
    return this.watermarks.clock(now);
  }

  /**
   * `until` (event time, epoch ms): the acknowledgement lapses then and the alert is open
   * again, unless it is resolved first (alerta's ack timeout). Stamped with the event-time
   * clock and with the wall time `now` it was done.
   */
  acknowledge(alertId: string, by: string, note: string | undefined, now: number, until?: number): AlertOperation {
    const at = this.clock(now);
    const before = this.alerts.get(alertId);
    const firstAck = before !== undefined && before.acknowledgedAt === null;
    const result = this.alerts.acknowledge(alertId, at, by, note, until, now);
    if (typeof result === 'string') return { ok: false, refusal: result };
    if (firstAck) recordAcknowledgement(this.partials, result, at);
    if (until !== undefined) this.timers.schedule(until, ACK_UNTIL_TIMER, alertId);
    return { ok: true, alert: result, step: this.flush([]) };
  }

  /**
   * Records a step of the notification stage in an active alert's history (see
   * AlertBook.annotate); the change comes back in the returned step. Undefined when the
   * alert is not active in this engine.
   */
  annotate(alertId: string, entry: AlertHistoryEntry, silencedBy?: string | null): AlertChange[] | undefined {
    const done = this.alerts.annotate(alertId, entry, silencedBy);
    if (done === undefined) return undefined;
    const changes = this.changes;
    this.changes = [];
    return changes;
  }

  resolve(alertId: string, by: string, note: string | undefined, now: number): AlertOperation {
    const result = this.alerts.resolveManually(alertId, this.clock(now), by, note, now);
    if (typeof result === 'string') return { ok: false, refusal: result };
    return { ok: true, alert: result, step: this.flush([]) };
  }

  /** An active alert, if this engine holds it. */
  activeAlert(alertId: string): Alert | undefined {
    return this.alerts.get(alertId);
  }

  stats(): EngineStats {
    const w = this.watermarks;
    return {
      ...this.counters,
      watermark: Number.isFinite(w.watermark) ? w.watermark : null,
      maxEventTime: Number.isFinite(w.maxSeen) ? w.maxSeen : null,
      activeAlerts: this.alerts.activeCount,
      pendingIncidents: this.fire.pendingCount,
      evictedUnresolvedIncidents: this.fire.evictedUnresolved,
      waterloggingPoints: this.waterlogging.size,
      parkingLots: this.parking.size,
      dedupKeys: this.dedup.size,
      dedupBytes: this.dedup.bytes,
      dedupEvictedKeys: this.dedup.evicted,
      timers: this.timers.size,
    };
  }

  private apply(e: HuitianEvent): void {
    const ctx = this.ctx;
    switch (e.type) {
      case 'huitian.waterlogging.reading': {
        this.waterlogging.onReading(e);
        const district = e.data.district ?? this.waterlogging.districtOf(e.data.pointId);
        onWaterloggingReading(this.depthRule, ctx, e, district);
        this.silenceRule.onReading(ctx, e.data.pointId, e, district ?? UNKNOWN, e.data.name);
        break;
      }
      case 'huitian.utility.reading':
        onGasReading(this.gasRule, ctx, e);
        break;
      case 'huitian.utility.alarm':
        this.utilityAlarms.onAlarm(e);
        this.alarmRule.onAlarm(ctx, e);
        break;
      case 'huitian.parking.occupancy':
        this.parking.onOccupancy(e);
        this.parkingRule.onOccupancy(ctx, e);
        break;
      case 'huitian.dispatch.received':
      case 'huitian.dispatch.dispatched':
      case 'huitian.dispatch.arrived':
      case 'huitian.dispatch.closed':
        this.fire.onEvent(ctx, e);
        break;
    }
  }

  /** Fires every timer and samples every minute the watermark has passed, in time order. */
  private runDue(): void {
    const wm = this.watermarks.watermark;
    if (this.lastSampled === null && this.earliestBeforeSampling !== null && Number.isFinite(wm)) {
      // Events accepted from now on are at or after the watermark, but may still be older
      // than every event accepted so far (a straggler within the lateness): start at the
      // earlier of the two, or that straggler's minute would never be sampled.
      this.lastSampled = bucketOf(Math.min(this.earliestBeforeSampling, wm));
    }
    if (this.lastSampled !== null && wm - this.lastSampled > (this.config.maxGapMinutes + 1) * BUCKET_MS) {
      const resumeAt = bucketOf(wm) - this.config.maxGapMinutes * BUCKET_MS;
      this.counters.gaugeMinutesSkipped += (resumeAt - this.lastSampled) / BUCKET_MS;
      this.lastSampled = resumeAt;
    }
    for (;;) {
      const timer = this.timers.peek();
      const timerDue = timer !== undefined && timer.due < wm ? timer.due : Number.POSITIVE_INFINITY;
      const boundary = this.lastSampled === null ? Number.POSITIVE_INFINITY : this.lastSampled + BUCKET_MS;
      // A minute [B−1 min, B) is final once the watermark reaches B, i.e. passes B − 1 ms.
      const boundaryDue = boundary <= wm ? boundary - 1 : Number.POSITIVE_INFINITY;
      if (timerDue === Number.POSITIVE_INFINITY && boundaryDue === Number.POSITIVE_INFINITY) return;
      if (timerDue <= boundaryDue) {
        const t = this.timers.pop()!;
        if (t.kind === ACK_UNTIL_TIMER) this.alerts.lapseAcknowledgement(t.key, t.due);
        else if (!this.fire.onTimer(this.ctx, t) && !this.parkingRule.onTimer(this.ctx, t)) this.silenceRule.onTimer(this.ctx, t);
      } else {
        this.sampleMinute(boundary);
        this.lastSampled = boundary;
      }
    }
  }

  private sampleMinute(boundary: number): void {
    const ctx = this.ctx;
    this.waterlogging.sampleMinute(ctx, boundary);
    this.parking.sampleMinute(ctx, boundary);
    this.utilityAlarms.sampleMinute(ctx, boundary);
    if (this.config.globalRules !== false) this.breach.evaluate(ctx, boundary);
    else {
      const buckets = this.breach.takeChanges(boundary, ctx.rules.kpiBreach.windowHours);
      if (buckets.length > 0) this.reports.push({ boundary, buckets });
    }
    if (++this.sampledSincePrune >= 60) {
      this.sampledSincePrune = 0;
      const horizon = boundary - STALE_ENTITY_MS;
      this.depthRule.forgetOlderThan(horizon);
      this.gasRule.forgetOlderThan(horizon);
      this.alarmRule.forgetOlderThan(horizon);
      this.parkingRule.forgetOlderThan(horizon);
      this.alerts.forgetResolvedBefore(horizon);
    }
  }

  private flush(outcomes: EventOutcome[]): StepResult {
    const alerts = this.changes;
    this.changes = [];
    let conflicts: StepResult['conflicts'] = NO_CONFLICTS;
    if (this.conflicts.length > 0) {
      conflicts = this.conflicts;
      this.conflicts = [];
    }
    const minuteReports = this.reports;
    if (minuteReports.length > 0) this.reports = [];
    return { outcomes, conflicts, partials: this.partials.drain(), alerts, watermark: this.watermarks.watermark, minuteReports };
  }

  /**
   * The whole state as one JSON-able object (the layout of SNAPSHOT_VERSION). A service
   * checkpoints with `checkpoint()` instead, which does not build one large value at once.
   */
  snapshot(): EngineSnapshot {
    return { ...this.stateParts(), dedup: this.dedup.snapshot() };
  }

  /**
   * The state now, captured in a few tens of milliseconds even with millions of remembered
   * ids, and encoded into chunks one `next()` at a time afterwards (format in
   * snapshot-chunks.ts). The engine may go on ingesting meanwhile: the capture is a copy.
   * Where and when the chunks are written is the caller's to decide. `extra`: parts of the
   * caller's own, copied already, kept beside the engine's (the pipeline's notification
   * stage); `decodeCheckpoint(chunks).state` gives them back.
   */
  checkpoint(extra: Record<string, unknown> = {}): EngineCheckpoint {
    return encodeCheckpoint({ ...this.stateParts(), ...extra }, this.dedup.capture());
  }

  /** Everything but the dedup index, copied. */
  private stateParts(): EngineSnapshot {
    return {
      version: SNAPSHOT_VERSION,
      watermarks: this.watermarks.snapshot(),
      timers: this.timers.snapshot(),
      lastSampled: this.lastSampled,
      earliestBeforeSampling: this.earliestBeforeSampling,
      sampledSincePrune: this.sampledSincePrune,
      counters: { ...this.counters },
      alerts: this.alerts.snapshot(),
      alertsResolved: this.alerts.snapshotResolved(),
      breach: this.breach.snapshot(),
      ...(this.breach.tracking ? { breachChanged: this.breach.snapshotChanged() } : {}),
      fire: { ...this.fire.snapshot(), evictedUnresolved: this.fire.evictedUnresolved },
      waterlogging: this.waterlogging.snapshot(),
      parking: this.parking.snapshot(),
      utilityAlarms: this.utilityAlarms.snapshot(),
      depthRule: this.depthRule.snapshot(),
      gasRule: this.gasRule.snapshot(),
      alarmRule: this.alarmRule.snapshot(),
      parkingRule: this.parkingRule.snapshot(),
      silenceRule: this.silenceRule.snapshot(),
    };
  }

  /**
   * Builds an engine from a snapshot taken by `snapshot()` under the same configuration —
   * also the one JSON object that data files written before chunked checkpoints hold.
   */
  static restore(config: EngineConfig, s: EngineSnapshot, partials?: PartialBuffer): Engine {
    return Engine.fromState(config, s, (dedup) => dedup.restore(s.dedup as DedupSnapshot), partials);
  }

  /** Builds an engine from the chunks of a `checkpoint()`, in order. */
  static restoreChunks(config: EngineConfig, chunks: Iterable<Uint8Array>, partials?: PartialBuffer): Engine {
    return Engine.restoreDecoded(config, decodeCheckpoint(chunks), partials);
  }

  /** The same, from chunks already read by `decodeCheckpoint` (whose state also holds a caller's extra parts). */
  static restoreDecoded(config: EngineConfig, decoded: DecodedCheckpoint, partials?: PartialBuffer): Engine {
    return Engine.fromState(config, decoded.state as EngineSnapshot, decoded.restoreDedup, partials);
  }

  private static fromState(config: EngineConfig, s: EngineSnapshot, restoreDedup: (dedup: DedupIndex) => void, partials?: PartialBuffer): Engine {
    if (s.version !== SNAPSHOT_VERSION) {
      throw new Error(`engine snapshot version ${String(s.version)} is not ${SNAPSHOT_VERSION}`);
    }
    // The snapshot is our own JSON; its parts are typed by the methods that wrote them.
    const p = s as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const engine = new Engine(config, partials);
    engine.watermarks.restore(p.watermarks);
    restoreDedup(engine.dedup);
    engine.timers.restore(p.timers);
    engine.lastSampled = p.lastSampled;
    engine.earliestBeforeSampling = p.earliestBeforeSampling ?? null;
    engine.sampledSincePrune = p.sampledSincePrune;
    engine.counters = { future: 0, conflicts: 0, lateBelowDedupFloor: 0, ...p.counters };
    engine.alerts.restore(p.alerts);
    engine.alerts.restoreResolved(p.alertsResolved ?? []);
    engine.breach.restore(p.breach);
    if (engine.breach.tracking) engine.breach.restoreChanged(p.breachChanged ?? []);
    engine.fire.restore(p.fire);
    engine.fire.evictedUnresolved = p.fire.evictedUnresolved ?? 0;
    engine.waterlogging.restore(p.waterlogging);
    engine.parking.restore(p.parking);
    engine.utilityAlarms.restore(p.utilityAlarms);
    engine.depthRule.restore(p.depthRule);
    engine.gasRule.restore(p.gasRule);
    engine.alarmRule.restore(p.alarmRule);
    engine.parkingRule.restore(p.parkingRule);
    engine.silenceRule.restore(p.silenceRule);
    return engine;
  }
}
