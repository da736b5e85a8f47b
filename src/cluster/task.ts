/**
 * One cluster task: the engine of one input partition, its partial table and its next
 * offset (docs/cluster.md §1). `process` applies a batch of the partition's records in
 * offset order and returns what they changed; it does no I/O, and its only "now" is the
 * records' own Kafka timestamps (events, commands) or the logged `now` of a tick, so a
 * re-read on any instance computes exactly what the first read did.
 */
import type { IHeaders } from 'kafkajs';
import type { Alert, AlertChange, AlertHistoryEntry } from '../alerts/alert.js';
import { annotatedCopy } from '../alerts/alert-book.js';
import { Engine, type EngineConfig, type MinuteReport, type StepResult } from '../engine/engine.js';
import { FINAL_FAMILIES, TaskPartials } from '../engine/task-partials.js';
import { decodeRecord } from '../events/decode-record.js';
import type { HuitianEvent } from '../events/schemas.js';
import type { PartialDelta } from '../kpis/partials.js';
import { headersOf, kafkaChannel } from '../kafka/kafka-source.js';
import { ServiceMetrics } from '../metrics.js';
import { bucketRecordsOf, type PartialRecord } from './partials-view.js';
import type { DeadLetter, SourcePosition } from '../ports.js';

export const COMMAND_HEADER = 'huitian-command';

export type TaskCommand =
  | { kind: 'ack' | 'resolve'; alertId: string; by: string; note?: string; until?: number; requestId: string }
  | { kind: 'tick'; now: number }
  /** From the notification stage's owner (docs/cluster.md §10): a history entry for one of this task's alerts. */
  | { kind: 'annotate'; alertId: string; entry: AlertHistoryEntry; silencedBy?: string | null };

export interface TaskRecord {
  offset: string;
  key?: Buffer | null;
  timestamp: string;
  headers?: IHeaders;
  value: Buffer | null;
}

export interface TaskOutput {
  partials: PartialDelta[];
  /** The partials as `G.partials` bucket records (docs/cluster.md §7), when the task is asked for them. */
  partialRecords: PartialRecord[];
  alerts: AlertChange[];
  reports: MinuteReport[];
  deadLetters: DeadLetter[];
  refused: Array<{ requestId: string; alertId: string; kind: string }>;
  counts: { accepted: number; duplicates: number; late: number; rejected: number; records: number };
  /** The same by event type (`invalid` for a record that does not decode), for the metrics. */
  byType: Record<Outcome, Map<string, number>>;
}

export type Outcome = 'in' | 'accepted' | 'duplicate' | 'late' | 'future' | 'conflict' | 'rejected';

function tally(out: TaskOutput, outcome: Outcome, type: string): void {
  const m = out.byType[outcome];
  m.set(type, (m.get(type) ?? 0) + 1);
}

export function taskIdOf(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function parseTaskId(task: string): { topic: string; partition: number } {
  const i = task.lastIndexOf('-');
  return { topic: task.slice(0, i), partition: Number(task.slice(i + 1)) };
}

export interface TaskSnapshot {
  version: 1;
  task: string;
  next: string;
  engine: ReturnType<Engine['snapshot']>;
  partials: ReturnType<TaskPartials['snapshot']>;
  /** The alerts this task resolved lately, oldest first (absent in checkpoints written before). */
  resolved?: Alert[];
}

/**
 * How long (event time) and how many of its resolved alerts a task keeps, so that a history
 * entry the notification stage decided before the resolve but that reaches the task after it
 * (the stage runs behind the slowest partition) still goes into the alert, as in single mode,
 * where the stage writes it into the stored document.
 */
export const RESOLVED_MEMORY_MS = 24 * 3600_000;
export const RESOLVED_MEMORY_MAX = 10_000;

export class Task {
  readonly channel: string;
  readonly engine: Engine;
  readonly partials: TaskPartials;
  /** Next offset to apply; records below it were applied before (a re-delivery). */
  next: bigint;
  /** Whether `process` also returns bucket records for `G.partials` (no InfluxDB). */
  bucketRecords = false;
  private readonly futureReason: string;
  /** Resolved alerts by id, in the order they were resolved (see RESOLVED_MEMORY_MS). */
  private readonly resolved = new Map<string, Alert>();

  constructor(
    readonly id: string,
    readonly topic: string,
    readonly partition: number,
    config: EngineConfig,
    start: bigint,
    snapshot?: TaskSnapshot,
  ) {
    this.channel = kafkaChannel(topic, partition);
    this.partials = new TaskPartials();
    const engineConfig = { ...config, globalRules: false };
    if (snapshot !== undefined) {
      this.engine = Engine.restore(engineConfig, snapshot.engine, this.partials);
      this.partials.restore(snapshot.partials);
      this.next = BigInt(snapshot.next);
      for (const a of snapshot.resolved ?? []) this.resolved.set(a.id, a);
    } else {
      this.engine = new Engine(engineConfig, this.partials);
      // A task holds its own partition's time only; declared so an empty start is defined.
      this.engine.registerChannel(this.channel, 0);
      this.next = start;
    }
    const bound = Math.round(config.maxFutureMs / 1000);
    // Live, "now" is the record's Kafka timestamp, never the consuming instance's clock.
    this.futureReason =
      config.timeMode === 'live'
        ? `time: more than ${bound} s ahead of the record's timestamp (is the producer's clock wrong?)`
        : `time: more than ${bound} s ahead of the newest event time so far (is the producer's clock wrong? a stream quiet for longer needs a larger HUITIAN_MAX_FUTURE_S)`;
  }

  snapshot(): TaskSnapshot {
    return { version: 1, task: this.id, next: this.next.toString(), engine: this.engine.snapshot(), partials: this.partials.snapshot(), resolved: [...this.resolved.values()] };
  }

  process(records: readonly TaskRecord[], receivedAt: number): TaskOutput {
    const out: TaskOutput = {
      partials: [],
      partialRecords: [],
      alerts: [],
      reports: [],
      deadLetters: [],
      refused: [],
      counts: { accepted: 0, duplicates: 0, late: 0, rejected: 0, records: 0 },
      byType: { in: new Map(), accepted: new Map(), duplicate: new Map(), late: new Map(), future: new Map(), conflict: new Map(), rejected: new Map() },
    };
    // A mutable key may change in several steps of a batch (its last absolute value counts);
    // a gauge key is sampled in exactly one step (its minute's), so it needs no key at all:
    // building a key string per sampled series was 4 % of a member's CPU on the bench stream.
    const partials = new Map<string, PartialDelta>();
    const sampled: PartialDelta[] = [];
    const take = (step: StepResult) => {
      for (const p of step.partials) {
        if (FINAL_FAMILIES.has(p.family)) sampled.push(p);
        else partials.set(`${p.family}|${p.tagKey}|${p.bucket}`, p);
      }
      for (const a of step.alerts) {
        out.alerts.push(a);
        if (a.alert.status === 'resolved') this.resolved.set(a.alert.id, a.alert);
      }
      for (const r of step.minuteReports) out.reports.push(r);
    };
    let run: Array<{ event: HuitianEvent; raw: string; record: TaskRecord }> = [];
    let runTs = 0;
    const flushRun = () => {
      if (run.length === 0) return;
      const step = this.engine.ingest(
        run.map((c) => c.event),
        this.channel,
        runTs,
        false,
      );
      for (let i = 0; i < run.length; i++) {
        const o = step.outcomes[i];
        const c = run[i]!;
        const type = c.event.type;
        tally(out, 'in', type);
        if (o === 'accepted') {
          out.counts.accepted++;
          tally(out, 'accepted', type);
        } else if (o === 'duplicate') {
          out.counts.duplicates++;
          tally(out, 'duplicate', type);
        } else {
          let reason: string;
          if (o === 'late') {
            out.counts.late++;
            reason = 'late';
          } else {
            out.counts.rejected++;
            reason = o === 'conflict' ? step.conflicts.find((x) => x.index === i)!.reason : this.futureReason;
          }
          tally(out, o === 'late' ? 'late' : o === 'conflict' ? 'conflict' : 'future', type);
          out.deadLetters.push({ receivedAt, channel: this.channel, eventId: c.event.id, type: c.event.type, reason, payload: c.raw, source: sourceOf(c.record) });
        }
      }
      take(step);
      run = [];
    };
    for (const m of records) {
      const offset = BigInt(m.offset);
      if (offset < this.next) continue;
      this.next = offset + 1n;
      out.counts.records++;
      const ts = Number(m.timestamp);
      const headers = headersOf(m.headers);
      const raw = m.value === null ? '' : m.value.toString('utf8');
      const command = headers[COMMAND_HEADER];
      if (command !== undefined) {
        flushRun();
        this.applyCommand(command, raw, ts, out, take);
        continue;
      }
      if (raw === '') {
        out.counts.rejected++;
        tally(out, 'in', 'invalid');
        tally(out, 'rejected', 'invalid');
        out.deadLetters.push({ receivedAt, channel: this.channel, eventId: null, type: null, reason: '(event): empty record', payload: raw, source: sourceOf(m) });
        continue;
      }
      const decoded = decodeRecord(raw, headers, 'ce_');
      if (!decoded.ok) {
        out.counts.rejected++;
        const type = ServiceMetrics.typeLabel(decoded.type);
        tally(out, 'in', type);
        tally(out, 'rejected', type);
        out.deadLetters.push({ receivedAt, channel: this.channel, eventId: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, payload: raw, source: sourceOf(m) });
        continue;
      }
      if (run.length > 0 && ts !== runTs) flushRun();
      runTs = ts;
      run.push({ event: decoded.event, raw, record: m });
    }
    flushRun();
    out.partials = sampled.length === 0 ? [...partials.values()] : [...partials.values(), ...sampled];
    // Before eviction: a mutable bucket's record carries every key the table holds of it.
    if (this.bucketRecords) out.partialRecords = bucketRecordsOf(this.id, out.partials, this.partials);
    this.partials.evict(this.engine.watermark);
    this.forgetResolved();
    return out;
  }

  /** Oldest first: a resolved alert past the memory's time or count is forgotten. */
  private forgetResolved(): void {
    const horizon = this.engine.watermark - RESOLVED_MEMORY_MS;
    for (const [id, a] of this.resolved) {
      if (this.resolved.size <= RESOLVED_MEMORY_MAX && (a.resolvedAt ?? Number.POSITIVE_INFINITY) >= horizon) break;
      this.resolved.delete(id);
    }
  }

  private applyCommand(kind: string, raw: string, ts: number, out: TaskOutput, take: (s: StepResult) => void): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    if (kind === 'tick') {
      const now = typeof body.now === 'number' ? body.now : ts;
      take(this.engine.markIdle(this.channel, now));
      return;
    }
    if (kind === 'annotate') {
      if (typeof body.alertId !== 'string' || typeof body.entry !== 'object' || body.entry === null) return;
      const entry = body.entry as AlertHistoryEntry;
      const silencedBy = body.silencedBy === undefined ? undefined : (body.silencedBy as string | null);
      const active = this.engine.activeAlert(body.alertId);
      const held = active ?? this.resolved.get(body.alertId);
      // A stage owner that took over re-sends what its predecessor had sent: the same entry
      // twice is one. An alert this task no longer remembers (resolved more than
      // RESOLVED_MEMORY_MS ago) keeps its history (the notification was sent all the same).
      if (held === undefined || held.history.some((h) => h.at === entry.at && h.action === entry.action && h.by === entry.by)) return;
      if (active !== undefined) {
        const changes = this.engine.annotate(body.alertId, entry, silencedBy);
        if (changes !== undefined) for (const a of changes) out.alerts.push(a);
        return;
      }
      // Resolved meanwhile (the stage decides behind the watermark): a new version of the
      // resolved alert with the entry, as single mode writes it into the stored document.
      const doc = annotatedCopy(held, entry, silencedBy);
      this.resolved.set(doc.id, doc);
      out.alerts.push({ action: entry.action, alert: doc });
      return;
    }
    if ((kind !== 'ack' && kind !== 'resolve') || typeof body.alertId !== 'string' || typeof body.by !== 'string') return;
    const note = typeof body.note === 'string' ? body.note : undefined;
    const until = kind === 'ack' && typeof body.until === 'number' ? body.until : undefined;
    // As in single mode, an acknowledgement must lapse after the stream's clock, not before it.
    if (until !== undefined && until <= this.engine.clock(ts)) {
      out.refused.push({ requestId: String(body.requestId ?? ''), alertId: body.alertId, kind });
      return;
    }
    const result = kind === 'ack' ? this.engine.acknowledge(body.alertId, body.by, note, ts, until) : this.engine.resolve(body.alertId, body.by, note, ts);
    if (result.ok) take(result.step);
    else out.refused.push({ requestId: String(body.requestId ?? ''), alertId: body.alertId, kind });
  }
}

function sourceOf(m: TaskRecord): SourcePosition {
  return { key: m.key == null ? null : m.key.toString('utf8'), offset: m.offset };
}
