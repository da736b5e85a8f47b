/**
 * The global stage's task (docs/cluster.md §5, §10): the one partition of `G.global`, which
 * carries the dispatch tasks' minute reports, the operators' commands for global alerts,
 * and the notification stage's input (the tasks' committed alert transitions and
 * watermarks, the operators' silences). Like `Task`, `process` applies a batch of records in
 * offset order and does no I/O, so a restored owner re-reading from its checkpoint computes
 * what the first read did — notifications included.
 */
import type { AlertChange } from '../alerts/alert.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import { GlobalStage, type TaskReport } from '../engine/global-stage.js';
import type { PartialDelta } from '../kpis/partials.js';
import { BUCKET_MS } from '../kpis/partials.js';
import { DEFAULT_NOTIFICATIONS, type NotificationsConfig } from '../notifications/notifications-config.js';
import type { Silence } from '../notifications/silences.js';
import { CapNumbering, type CapAssignment, type CapNumberingSnapshot } from './cap-numbering.js';
import { ClusterNotifications, emptyNotifyOutput, type ClusterNotificationsSnapshot, type NotifyOutput, type StageAlertRecord, type StageProgressRecord } from './cluster-notifications.js';
import { COMMAND_HEADER, type TaskOutput, type TaskRecord } from './task.js';

export const GLOBAL_TASK = 'global';

export interface GlobalOutput {
  partials: PartialDelta[];
  alerts: AlertChange[];
  refused: Array<{ alertId: string; kind: string }>;
  /** What the notification stage decided; annotations only of the tasks' alerts (the global stage's own are applied here). */
  notify: NotifyOutput;
  /** CAP identifiers numbered in the batch (§10), in the order given: written before its deliveries. */
  cap: CapAssignment[];
}

export interface GlobalSnapshot {
  stage: unknown;
  /** Absent in a checkpoint from before the cluster's notification stage: it starts empty. */
  notifications?: ClusterNotificationsSnapshot;
  /** Absent in a checkpoint from before the cluster's CAP numbering: it starts empty. */
  cap?: CapNumberingSnapshot;
}

export class GlobalTask {
  readonly id = GLOBAL_TASK;

  constructor(
    readonly stage: GlobalStage,
    /** Next offset of `G.global` to apply. */
    public next: bigint,
    readonly notify: ClusterNotifications,
    readonly cap: CapNumbering = new CapNumbering(DEFAULT_NOTIFICATIONS.cap.issuerCode),
  ) {}

  static restore(
    rules: RulesConfig,
    dispatchTasks: readonly string[],
    snapshot: GlobalSnapshot | null,
    start: bigint,
    offset: bigint | undefined,
    timeZone: string,
    notifications: NotificationsConfig = DEFAULT_NOTIFICATIONS,
  ): GlobalTask {
    const issuer = notifications.cap.issuerCode;
    if (snapshot === null) return new GlobalTask(new GlobalStage(rules, dispatchTasks, timeZone), start, new ClusterNotifications(notifications), new CapNumbering(issuer));
    return new GlobalTask(
      GlobalStage.restore(rules, dispatchTasks, snapshot.stage, timeZone),
      offset ?? start,
      new ClusterNotifications(notifications, snapshot.notifications),
      new CapNumbering(issuer, snapshot.cap),
    );
  }

  snapshot(): GlobalSnapshot {
    return { stage: this.stage.snapshot(), notifications: this.notify.snapshot(), cap: this.cap.snapshot() };
  }

  process(records: readonly TaskRecord[]): GlobalOutput {
    const out: GlobalOutput = { partials: [], alerts: [], refused: [], notify: emptyNotifyOutput(), cap: [] };
    for (const m of records) {
      const decided = out.notify.notifications.length;
      this.apply(m, out);
      this.applyOwnAnnotations(out);
      // Then the versions the record's notifications carry (the stage's view of the alert),
      // as single mode's renderer numbers a version it meets first: per record, so the
      // numbers do not depend on where a batch ends.
      for (let i = decided; i < out.notify.notifications.length; i++) {
        for (const item of out.notify.notifications[i]!.items) this.numberVersion(item.alert, item.version, out);
      }
    }
    return out;
  }

  private numberVersion(alert: AlertChange['alert'], version: number, out: GlobalOutput): void {
    const c = this.cap.number(alert, version);
    if (c !== undefined) out.cap.push(c);
  }

  /** The global stage's alerts go to the notification stage as its tasks' do. */
  private offerOwn(alerts: readonly AlertChange[], out: GlobalOutput): void {
    for (const a of alerts) {
      const version = a.alert.history.length;
      if (this.notify.offerAlert({ task: GLOBAL_TASK, version, action: a.action, alert: a.alert }, out.notify)) this.numberVersion(a.alert, version, out);
    }
  }

  /** Annotations of the global stage's own alerts (kpi_breach) are applied here, in the same step. */
  private applyOwnAnnotations(out: GlobalOutput): void {
    for (let guard = 0; guard < 8; guard++) {
      const own = out.notify.annotations.filter((a) => a.task === GLOBAL_TASK);
      if (own.length === 0) return;
      out.notify.annotations = out.notify.annotations.filter((a) => a.task !== GLOBAL_TASK);
      for (const a of own) {
        const step = this.stage.annotate(a.alertId, a.entry, a.silencedBy);
        if (step === undefined) continue;
        out.partials.push(...step.partials);
        out.alerts.push(...step.alerts);
        this.offerOwn(step.alerts, out);
      }
    }
  }

  private apply(m: TaskRecord, out: GlobalOutput): void {
    const offset = BigInt(m.offset);
    if (offset < this.next) return;
    this.next = offset + 1n;
    if (m.value === null) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(m.value.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    const command = m.headers?.[COMMAND_HEADER]?.toString();
    if (command === 'ack' || command === 'resolve') {
      const note = typeof body.note === 'string' ? body.note : undefined;
      const r = command === 'ack' ? this.stage.acknowledge(String(body.alertId), String(body.by), note) : this.stage.resolve(String(body.alertId), String(body.by), note);
      if (r.ok) {
        out.partials.push(...r.step.partials);
        out.alerts.push(...r.step.alerts);
        this.offerOwn(r.step.alerts, out);
      } else out.refused.push({ alertId: String(body.alertId), kind: command });
      return;
    }
    if (command === 'silence') {
      const silence = body.silence as Silence | undefined;
      if (silence !== undefined && typeof silence.id === 'string') this.notify.addSilence(silence, out.notify);
      return;
    }
    if (command === 'silence-expire') {
      if (typeof body.id === 'string' && typeof body.at === 'number') this.notify.expireSilence(body.id, body.at, out.notify);
      return;
    }
    if (body.kind === 'stage-alert') {
      const r = body as unknown as StageAlertRecord;
      // A repeat (a task re-read) keeps the number its first offer was given.
      if (this.notify.offerAlert(r, out.notify)) this.numberVersion(r.alert, r.version, out);
      return;
    }
    if (body.kind === 'stage-progress') {
      const r = body as unknown as StageProgressRecord;
      this.notify.progress(r.task, r.watermark, out.notify);
      return;
    }
    const step = this.stage.onReport(body as unknown as TaskReport);
    out.partials.push(...step.partials);
    out.alerts.push(...step.alerts);
    this.offerOwn(step.alerts, out);
  }
}

/**
 * What a task of the dispatch topic sends to `G.global` after a batch: a report per minute
 * boundary at which its fire counts changed, then how far its watermark has come. A
 * function of the task's records, so a re-read repeats it exactly.
 */
export function globalReportsOf(taskId: string, out: Pick<TaskOutput, 'reports'>, watermark: number, dispatch: boolean): TaskReport[] {
  const reports: TaskReport[] = out.reports.map((r) => ({ task: taskId, reached: r.boundary, boundary: r.boundary, buckets: r.buckets }));
  if (dispatch && Number.isFinite(watermark)) reports.push({ task: taskId, reached: Math.floor(watermark / BUCKET_MS) * BUCKET_MS });
  return reports;
}
