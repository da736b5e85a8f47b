/**
 * The global stage of a cluster (docs/cluster.md §5): rules that need every partition —
 * `kpi_breach` — evaluated from the minute reports of the tasks of the dispatch topic.
 *
 * A report says: task T's watermark passed minute boundary B, and these received-minute
 * buckets of T now hold these absolute (covered, decided) counts. Boundary B is evaluated
 * once every expected task has reached B, with each task's counts as of its reports up to B.
 * So the outcome is a function of the reports' contents alone — not of how the tasks'
 * writes interleave, who owns what, or repeats after a takeover (a repeat carries the same
 * absolute counts and changes nothing). Pure: no I/O, no clock.
 */
import { DEFAULT_TIME_ZONE } from '../time/time-zone.js';
import { AlertBook } from '../alerts/alert-book.js';
import type { Alert, AlertChange, AlertHistoryEntry } from '../alerts/alert.js';
import { KpiBreachRule } from '../alerts/kpi-breach.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import { recordAcknowledgement } from '../kpis/alert-ack.js';
import { BUCKET_MS, type PartialDelta } from '../kpis/partials.js';
import { TimerQueue } from '../time/timer-queue.js';
import type { MinuteReport } from './engine.js';
import type { StepContext } from './step-context.js';
import { TaskPartials } from './task-partials.js';

export interface TaskReport extends Partial<MinuteReport> {
  task: string;
  /** Highest boundary the task's watermark has passed (with or without changes). */
  reached: number;
}

export interface GlobalStep {
  partials: PartialDelta[];
  alerts: AlertChange[];
}

interface TaskState {
  reached: number;
  /** Reports not yet applied, boundary ascending. */
  pending: Array<{ boundary: number; buckets: Array<[number, number, number]> }>;
  /** Applied absolute counts per bucket. */
  counts: Map<number, [number, number]>;
}

export class GlobalStage {
  private readonly tasks = new Map<string, TaskState>();
  private readonly breach = new KpiBreachRule();
  private readonly partials = new TaskPartials();
  private changes: AlertChange[] = [];
  private readonly alerts = new AlertBook((c) => this.changes.push(c));
  /** Next boundary to evaluate; null before the first report. */
  private next: number | null = null;
  private readonly ctx: StepContext;

  constructor(
    private readonly rules: RulesConfig,
    /** The tasks every boundary waits for: the partitions of the dispatch topic. */
    readonly expected: readonly string[],
    /** IANA zone of the alert texts (HUITIAN_TIMEZONE). */
    private readonly timeZone: string = DEFAULT_TIME_ZONE,
  ) {
    for (const t of expected) this.tasks.set(t, { reached: Number.NEGATIVE_INFINITY, pending: [], counts: new Map() });
    const stage = this;
    this.ctx = {
      partials: this.partials,
      alerts: this.alerts,
      timers: new TimerQueue(),
      rules,
      timeZone: this.timeZone,
      mode: 'replay',
      fireClockStart: 'dispatched',
      get watermark() {
        return stage.next === null ? Number.NEGATIVE_INFINITY : stage.next - 1;
      },
    };
  }

  /** The stage's event-time clock: the last boundary evaluated. Stamps operators' actions. */
  get clock(): number {
    return this.next === null ? 0 : this.next - BUCKET_MS;
  }

  onReport(r: TaskReport): GlobalStep {
    const state = this.tasks.get(r.task);
    if (state === undefined) return this.flush();
    if (r.boundary !== undefined && r.buckets !== undefined && r.boundary > state.reached) {
      state.pending.push({ boundary: r.boundary, buckets: r.buckets });
    }
    const reached = Math.max(r.reached, r.boundary ?? Number.NEGATIVE_INFINITY);
    if (reached > state.reached) state.reached = reached;
    this.evaluateReady();
    return this.flush();
  }

  private evaluateReady(): void {
    let all = Number.POSITIVE_INFINITY;
    for (const s of this.tasks.values()) if (s.reached < all) all = s.reached;
    if (!Number.isFinite(all)) return;
    if (this.next === null) {
      let first = Number.POSITIVE_INFINITY;
      for (const s of this.tasks.values()) if (s.pending.length > 0 && s.pending[0]!.boundary < first) first = s.pending[0]!.boundary;
      this.next = Number.isFinite(first) ? Math.min(first, all) : all;
    }
    // Evaluating every minute of a long quiet gap changes nothing once the window has
    // moved past all counts: jump to the next boundary with a report, less the window.
    const windowMs = this.rules.kpiBreach.windowHours * 3600_000;
    let b: number = this.next;
    while (b <= all) {
      for (const s of this.tasks.values()) {
        while (s.pending.length > 0 && s.pending[0]!.boundary <= b) {
          for (const [bucket, covered, decided] of s.pending.shift()!.buckets) {
            const old = s.counts.get(bucket) ?? [0, 0];
            this.breach.record(bucket, covered - old[0], decided - old[1]);
            s.counts.set(bucket, [covered, decided]);
          }
        }
        for (const bucket of s.counts.keys()) if (bucket < b - windowMs - 2 * BUCKET_MS) s.counts.delete(bucket);
      }
      this.next = b;
      this.breach.evaluate(this.ctx, b);
      b += BUCKET_MS;
      if (this.alerts.activeCount === 0 && this.breachEmpty()) {
        let nextReport = Number.POSITIVE_INFINITY;
        for (const s of this.tasks.values()) if (s.pending.length > 0 && s.pending[0]!.boundary < nextReport) nextReport = s.pending[0]!.boundary;
        const jump = Math.min(nextReport, all + BUCKET_MS);
        if (jump > b) b = jump;
      }
      this.next = b;
    }
  }

  private breachEmpty(): boolean {
    return this.breach.snapshot().length === 0;
  }

  acknowledge(alertId: string, by: string, note: string | undefined): { ok: true; alert: Alert; step: GlobalStep } | { ok: false } {
    const at = this.clock;
    const before = this.alerts.get(alertId);
    const firstAck = before !== undefined && before.acknowledgedAt === null;
    const result = this.alerts.acknowledge(alertId, at, by, note);
    if (typeof result === 'string') return { ok: false };
    if (firstAck) recordAcknowledgement(this.partials, result, at);
    return { ok: true, alert: result, step: this.flush() };
  }

  resolve(alertId: string, by: string, note: string | undefined): { ok: true; alert: Alert; step: GlobalStep } | { ok: false } {
    const result = this.alerts.resolveManually(alertId, this.clock, by, note);
    if (typeof result === 'string') return { ok: false };
    return { ok: true, alert: result, step: this.flush() };
  }

  /** A history entry of the notification stage on one of this stage's alerts; undefined when it is no longer active. */
  annotate(alertId: string, entry: AlertHistoryEntry, silencedBy?: string | null): GlobalStep | undefined {
    const done = this.alerts.annotate(alertId, entry, silencedBy);
    if (done === undefined) return undefined;
    return this.flush();
  }

  private flush(): GlobalStep {
    const alerts = this.changes;
    this.changes = [];
    if (this.next !== null) this.partials.evict(this.next);
    return { partials: this.partials.drain(), alerts };
  }

  stats(): { next: number | null; reached: Record<string, number | null> } {
    const reached: Record<string, number | null> = {};
    for (const [t, s] of this.tasks) reached[t] = Number.isFinite(s.reached) ? s.reached : null;
    return { next: this.next, reached };
  }

  snapshot(): unknown {
    return {
      next: this.next,
      tasks: [...this.tasks].map(([t, s]) => [t, Number.isFinite(s.reached) ? s.reached : null, s.pending, [...s.counts]]),
      breach: this.breach.snapshot(),
      alerts: this.alerts.snapshot(),
      alertsResolved: this.alerts.snapshotResolved(),
      partials: this.partials.snapshot(),
    };
  }

  static restore(rules: RulesConfig, expected: readonly string[], raw: unknown, timeZone: string = DEFAULT_TIME_ZONE): GlobalStage {
    const s = raw as {
      next: number | null;
      tasks: Array<[string, number | null, TaskState['pending'], Array<[number, [number, number]]>]>;
      breach: Array<[number, [number, number]]>;
      alerts: Alert[];
      alertsResolved: Array<[string, [number, number]]>;
      partials: Parameters<TaskPartials['restore']>[0];
    };
    const stage = new GlobalStage(rules, expected, timeZone);
    stage.next = s.next;
    for (const [t, reached, pending, counts] of s.tasks) {
      if (!stage.tasks.has(t)) continue;
      stage.tasks.set(t, { reached: reached ?? Number.NEGATIVE_INFINITY, pending, counts: new Map(counts) });
    }
    stage.breach.restore(s.breach);
    stage.alerts.restore(s.alerts);
    stage.alerts.restoreResolved(s.alertsResolved);
    stage.partials.restore(s.partials);
    return stage;
  }
}
