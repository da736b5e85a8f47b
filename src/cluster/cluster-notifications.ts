/**
 * The notification stage in a cluster (docs/cluster.md §10): the pure NotificationStage of
 * issue 12, hosted by the global task, fed by the records of `G.global`'s one partition in
 * offset order. That partition is the stage's whole input — the tasks' committed alert
 * transitions and their watermarks, the operators' silences — so a new owner that restores
 * the stage's checkpoint and re-reads the partition from its offset decides exactly what
 * the first owner decided: the same notifications with the same ids and idempotency keys.
 * No I/O and no clock: time is the tasks' logged watermarks.
 *
 * - The stage's clock is the lowest watermark over the tasks that have one (a partition
 *   that never carried an event has none and holds nothing back), as the embedded engine's
 *   watermark is the lowest over its channels; it never goes back.
 * - A task re-read after a takeover sends its transitions again: a version not newer than
 *   the one seen for the alert is a repeat and is dropped, so it is neither re-queued nor
 *   notified twice.
 * - Annotations (escalated_to, reminded, silenced, unsilenced) name the task that owns the
 *   alert, so the host can send them to it as commands (or apply them itself for the global
 *   stage's own alerts).
 */
import type { Alert, AlertAction } from '../alerts/alert.js';
import type { NotificationsConfig } from '../notifications/notifications-config.js';
import type { Silence } from '../notifications/silences.js';
import { NotificationStage, type Annotation, type Notification, type StageSnapshot } from '../notifications/stage.js';

/** `G.global` record of a task: one committed alert transition, for the notification stage. */
export interface StageAlertRecord {
  kind: 'stage-alert';
  task: string;
  version: number;
  action: AlertAction;
  alert: Alert;
}

/** `G.global` record of a task: its watermark after a batch that moved it. */
export interface StageProgressRecord {
  kind: 'stage-progress';
  task: string;
  watermark: number;
}

export interface TaskAnnotation extends Annotation {
  /** The task owning the alert (`global` for the global stage's own). */
  task: string;
}

export interface NotifyOutput {
  notifications: Notification[];
  annotations: TaskAnnotation[];
  /** Silences created or changed (for every instance's list). */
  silences: Silence[];
}

interface Seen {
  version: number;
  task: string;
  /** Event time it was resolved, for forgetting it once no re-read can bring it back. */
  resolvedAt: number | null;
}

export interface ClusterNotificationsSnapshot {
  stage: StageSnapshot;
  clocks: Array<[string, number]>;
  seen: Array<[string, Seen]>;
}

/** A resolved alert's last version is remembered this long in event time (a re-read repeats far less). */
export const SEEN_RETENTION_MS = 7 * 24 * 3600_000;
/** And at most this many resolved alerts (the oldest resolved are forgotten first). */
export const SEEN_RESOLVED_MAX = 50_000;

export function emptyNotifyOutput(): NotifyOutput {
  return { notifications: [], annotations: [], silences: [] };
}

export class ClusterNotifications {
  readonly stage: NotificationStage;
  private readonly clocks = new Map<string, number>();
  /** Insertion order = order first seen; resolved ones are pruned oldest first. */
  private readonly seen = new Map<string, Seen>();
  private resolvedCount = 0;
  private prunedAt = Number.NEGATIVE_INFINITY;
  /**
   * Without routes the tasks still send their transitions (for the CAP numbers, §10) but no
   * watermarks: the stage is not fed (it would queue them for a clock that never comes) and
   * the memory of repeats is pruned on the transitions' own times.
   */
  private readonly routed: boolean;
  private newestAlertAt = Number.NEGATIVE_INFINITY;

  constructor(config: NotificationsConfig, snapshot?: ClusterNotificationsSnapshot) {
    this.routed = config.routes.length > 0;
    this.stage = snapshot === undefined ? new NotificationStage(config) : NotificationStage.restore(config, snapshot.stage);
    if (snapshot !== undefined) {
      for (const [t, w] of snapshot.clocks) this.clocks.set(t, w);
      for (const [id, s] of snapshot.seen) {
        this.seen.set(id, { ...s });
        if (s.resolvedAt !== null) this.resolvedCount++;
      }
    }
  }

  /** The stage's clock: the lowest watermark of the tasks that have one. */
  clock(): number {
    let low = Number.POSITIVE_INFINITY;
    for (const w of this.clocks.values()) if (w < low) low = w;
    return low === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : low;
  }

  /** A committed transition; false when it is a repeat (a re-read) and changes nothing. */
  offerAlert(r: Omit<StageAlertRecord, 'kind'>, out: NotifyOutput): boolean {
    const known = this.seen.get(r.alert.id);
    if (known !== undefined && r.version <= known.version) return false;
    const resolvedAt = r.alert.status === 'resolved' ? (r.alert.resolvedAt ?? r.alert.updatedAt) : null;
    if (known !== undefined) {
      if (known.resolvedAt === null && resolvedAt !== null) this.resolvedCount++;
      this.seen.delete(r.alert.id);
    } else if (resolvedAt !== null) this.resolvedCount++;
    this.seen.set(r.alert.id, { version: r.version, task: r.task, resolvedAt });
    if (!this.routed) {
      if (r.alert.updatedAt > this.newestAlertAt) this.newestAlertAt = r.alert.updatedAt;
      this.prune(this.newestAlertAt);
      return true;
    }
    this.stage.offer([{ action: r.action, alert: r.alert }]);
    this.advance(out);
    return true;
  }

  /** A task's watermark; the stage decides everything before the new clock. */
  progress(task: string, watermark: number, out: NotifyOutput): void {
    if (!Number.isFinite(watermark)) return;
    const before = this.clocks.get(task);
    if (before !== undefined && watermark <= before) return;
    this.clocks.set(task, watermark);
    this.advance(out);
  }

  addSilence(s: Silence, out: NotifyOutput): void {
    this.stage.addSilence(s);
    out.silences.push(s);
    this.advance(out);
  }

  /** Ends a silence at event time `at`; undefined for an unknown or ended one. */
  expireSilence(id: string, at: number, out: NotifyOutput): Silence | undefined {
    const s = this.stage.expireSilence(id, at);
    if (s === undefined) return undefined;
    out.silences.push(s);
    this.advance(out);
    return s;
  }

  /** The owning task of an alert the stage has seen. */
  taskOf(alertId: string): string | undefined {
    return this.seen.get(alertId)?.task;
  }

  private advance(out: NotifyOutput): void {
    const clock = this.clock();
    if (!Number.isFinite(clock)) return;
    // At the current time too: a transition offered behind the clock (a task that started
    // late) is decided now rather than at the next watermark.
    const step = this.stage.advance(Math.max(clock, this.stage.time));
    out.notifications.push(...step.notifications);
    for (const a of step.annotations) out.annotations.push({ ...a, task: this.seen.get(a.alertId)?.task ?? '' });
    this.prune(clock);
  }

  private prune(clock: number): void {
    // At most once a minute of event time: the walk passes the active alerts first.
    if (this.resolvedCount === 0 || (clock - this.prunedAt < 60_000 && this.resolvedCount <= SEEN_RESOLVED_MAX)) return;
    this.prunedAt = clock;
    for (const [id, s] of this.seen) {
      if (s.resolvedAt === null) continue;
      if (this.resolvedCount <= SEEN_RESOLVED_MAX && s.resolvedAt + SEEN_RETENTION_MS > clock) break;
      this.seen.delete(id);
      this.resolvedCount--;
    }
  }

  snapshot(): ClusterNotificationsSnapshot {
    return { stage: this.stage.snapshot(), clocks: [...this.clocks], seen: [...this.seen].map(([k, v]) => [k, { ...v }]) };
  }
}
