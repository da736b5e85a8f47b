/**
 * The active alerts and their transitions: one alert per (rule, entity) while active
 * (DESIGN §5). Rules call `raise` and `clear`; operators' acknowledge and resolve come
 * through the engine to `acknowledge` and `resolveManually`. Every change appends a
 * history entry and is returned as an `AlertChange` for the alert store.
 *
 * Alert ids are derived from (rule, entity, openedAt) so that a replay, or a restart
 * that rebuilds state from the log, gives every alert the same id.
 */
import { createHash } from 'node:crypto';
import { cloneAlert, severityRank, type Alert, type AlertCategory, type AlertChange, type AlertHistoryEntry, type Severity } from './alert.js';

/** Inserts after every entry at or before the new one's time (stable for equal times). */
export function insertInTimeOrder(history: AlertHistoryEntry[], entry: AlertHistoryEntry): void {
  let i = history.length;
  while (i > 0 && history[i - 1]!.at > entry.at) i--;
  history.splice(i, 0, entry);
}

/** Puts a notification stage's history entry into `alert` (in time order) and sets `silencedBy` when given. */
export function applyAnnotation(alert: Alert, entry: AlertHistoryEntry, silencedBy?: string | null): void {
  insertInTimeOrder(alert.history, { ...entry });
  if (silencedBy !== undefined) alert.silencedBy = silencedBy;
}

/** A copy of `base` with the stage's entry in it: the next version of an alert no engine holds any more. */
export function annotatedCopy(base: Alert, entry: AlertHistoryEntry, silencedBy?: string | null): Alert {
  const doc = cloneAlert(base);
  applyAnnotation(doc, entry, silencedBy);
  return doc;
}

export interface RaiseSpec {
  rule: string;
  category: AlertCategory;
  entityId: string;
  severity: Severity;
  district: string;
  value: number | null;
  threshold: number | null;
  title: string;
  titleEn: string;
  message: string;
  messageEn: string;
  /** Event time of the reading or deadline that raised it. */
  at: number;
  by: string;
  /** Where the reading was taken, when it said (WGS 84). */
  location?: { lat: number; lon: number };
}

/** Texts of an alert, rebuilt when a reading sets a new peak. */
export type AlertTexts = Pick<RaiseSpec, 'title' | 'titleEn' | 'message' | 'messageEn'>;

export type TransitionRefusal = 'not_active' | 'already_acknowledged';

export function alertIdOf(rule: string, entityId: string, openedAt: number): string {
  return `al_${createHash('sha256').update(`${rule}\u0000${entityId}\u0000${openedAt}`).digest('hex').slice(0, 20)}`;
}

function slot(rule: string, entityId: string): string {
  return `${rule}\u0000${entityId}`;
}

/**
 * Active alerts by rule, then entity. Rules ask for their entity's alert on every reading;
 * two lookups by strings the caller already holds cost less than joining them into a new
 * key, whose hash would be computed afresh each time.
 */
class SlotIndex {
  private readonly byRule = new Map<string, Map<string, Alert>>();

  get(rule: string, entityId: string): Alert | undefined {
    return this.byRule.get(rule)?.get(entityId);
  }

  set(alert: Alert): void {
    let byEntity = this.byRule.get(alert.rule);
    if (byEntity === undefined) {
      byEntity = new Map();
      this.byRule.set(alert.rule, byEntity);
    }
    byEntity.set(alert.entityId, alert);
  }

  delete(alert: Alert): void {
    this.byRule.get(alert.rule)?.delete(alert.entityId);
  }

  clear(): void {
    this.byRule.clear();
  }
}

export class AlertBook {
  private readonly bySlot = new SlotIndex();
  private readonly byId = new Map<string, Alert>();
  /**
   * Per slot, the opening time of its last resolved alert and how many alerts of that
   * slot opened at that same instant. Two readings with one timestamp can resolve an
   * alert and open the next at the instant the first opened; without a count the new
   * one would get the old one's id and overwrite it in the store.
   */
  private readonly lastOpened = new Map<string, [openedAt: number, count: number]>();

  constructor(private readonly emit: (change: AlertChange) => void) {}

  get activeCount(): number {
    return this.byId.size;
  }

  active(rule: string, entityId: string): Alert | undefined {
    return this.bySlot.get(rule, entityId);
  }

  get(id: string): Alert | undefined {
    return this.byId.get(id);
  }

  /** Opens the (rule, entity) alert, or escalates it when `severity` is worse. */
  raise(spec: RaiseSpec): void {
    const existing = this.bySlot.get(spec.rule, spec.entityId);
    if (existing === undefined) {
      const key = slot(spec.rule, spec.entityId);
      const previous = this.lastOpened.get(key);
      const repeat = previous !== undefined && previous[0] === spec.at ? previous[1] : 0;
      if (repeat > 0) this.lastOpened.set(key, [spec.at, repeat + 1]);
      else this.lastOpened.delete(key);
      const baseId = alertIdOf(spec.rule, spec.entityId, spec.at);
      const alert: Alert = {
        id: repeat === 0 ? baseId : `${baseId}-${repeat + 1}`,
        rule: spec.rule,
        category: spec.category,
        entityId: spec.entityId,
        severity: spec.severity,
        status: 'open',
        title: spec.title,
        titleEn: spec.titleEn,
        message: spec.message,
        messageEn: spec.messageEn,
        district: spec.district,
        value: spec.value,
        threshold: spec.threshold,
        openedAt: spec.at,
        updatedAt: spec.at,
        acknowledgedAt: null,
        resolvedAt: null,
        history: [{ at: spec.at, action: 'opened', severity: spec.severity, by: spec.by, value: spec.value }],
      };
      // The peak starts as the opening reading (peakValue absent: see toPublicAlert).
      if (spec.location !== undefined) alert.location = spec.location;
      this.bySlot.set(alert);
      this.byId.set(alert.id, alert);
      this.emit({ action: 'opened', alert: cloneAlert(alert) });
      return;
    }
    this.lapseIfDue(existing, spec.at);
    if (severityRank(spec.severity) <= severityRank(existing.severity)) return;
    existing.severity = spec.severity;
    existing.value = spec.value;
    if (spec.value !== null) {
      existing.peakValue = spec.value;
      existing.peakAt = spec.at;
    }
    if (spec.location !== undefined) existing.location = spec.location;
    existing.threshold = spec.threshold;
    existing.title = spec.title;
    existing.titleEn = spec.titleEn;
    existing.message = spec.message;
    existing.messageEn = spec.messageEn;
    existing.updatedAt = Math.max(existing.updatedAt, spec.at);
    // An acknowledgement of a yellow warning is not one of a red warning: escalation
    // puts the alert back in front of the operators.
    existing.status = 'open';
    if (existing.acknowledgedUntil != null) existing.acknowledgedUntil = null;
    existing.history.push({ at: spec.at, action: 'escalated', severity: spec.severity, by: spec.by, value: spec.value });
    this.emit({ action: 'escalated', alert: cloneAlert(existing) });
  }

  /**
   * A reading of the entity of an active alert that does not change its severity: the
   * alert follows it (`value`), and keeps its peak. `texts` rebuilds the title and message
   * for a new peak — the titles said the escalation reading for as long as the alert
   * lasted. Not a transition: nothing is emitted; the next transition stores it, and the
   * API reads active alerts from the engine.
   */
  observe(rule: string, entityId: string, value: number, at: number, texts: () => AlertTexts): void {
    const alert = this.bySlot.get(rule, entityId);
    if (alert === undefined) return;
    this.lapseIfDue(alert, at);
    alert.value = value;
    const peak = alert.peakValue ?? alert.history[0]?.value ?? null;
    if (peak === null || value > peak) {
      alert.peakValue = value;
      alert.peakAt = at;
      Object.assign(alert, texts());
    }
  }

  /** Resolves the (rule, entity) alert if one is active (a clearing reading, an arrival). */
  clear(rule: string, entityId: string, at: number, by: string, value: number | null = null, note?: string): void {
    const alert = this.bySlot.get(rule, entityId);
    if (alert === undefined) return;
    this.lapseIfDue(alert, at);
    this.finish(alert, at, by, note, value);
  }

  /**
   * An operator acknowledges: `at` is the stream's event-time clock, `wallClockAt` the wall
   * clock. `until`: the acknowledgement lapses then (event time), unless the alert is resolved first.
   */
  acknowledge(id: string, at: number, by: string, note?: string, until?: number, wallClockAt?: number): Alert | TransitionRefusal {
    const alert = this.byId.get(id);
    if (alert === undefined) return 'not_active';
    this.lapseIfDue(alert, at);
    if (alert.status === 'acknowledged') return 'already_acknowledged';
    alert.status = 'acknowledged';
    if (alert.acknowledgedAt === null) alert.acknowledgedAt = at;
    if (until !== undefined || alert.acknowledgedUntil != null) alert.acknowledgedUntil = until ?? null;
    alert.updatedAt = Math.max(alert.updatedAt, at);
    const entry: AlertHistoryEntry = { at, action: 'acknowledged', severity: alert.severity, by };
    if (note !== undefined) entry.note = note;
    if (until !== undefined) entry.until = until;
    if (wallClockAt !== undefined) entry.wallClockAt = wallClockAt;
    alert.history.push(entry);
    const copy = cloneAlert(alert);
    this.emit({ action: 'acknowledged', alert: copy });
    return copy;
  }

  resolveManually(id: string, at: number, by: string, note?: string, wallClockAt?: number): Alert | TransitionRefusal {
    const alert = this.byId.get(id);
    if (alert === undefined) return 'not_active';
    this.lapseIfDue(alert, at);
    return this.finish(alert, at, by, note, null, wallClockAt);
  }

  /** The watermark passed an acknowledgement's `until` (an engine timer). */
  lapseAcknowledgement(id: string, at: number): void {
    const alert = this.byId.get(id);
    if (alert !== undefined) this.lapseIfDue(alert, at);
  }

  /**
   * An acknowledgement whose `until` is at or before `at` lapses (at `until`) before
   * anything else happens to the alert at `at`. Checked on every change as well as by the
   * timer, so the alert's history does not depend on whether the watermark passed `until`
   * before or after a later reading of the entity was processed.
   */
  private lapseIfDue(alert: Alert, at: number): void {
    const until = alert.acknowledgedUntil;
    if (alert.status !== 'acknowledged' || until === null || until === undefined || until > at) return;
    alert.status = 'open';
    alert.acknowledgedUntil = null;
    alert.updatedAt = Math.max(alert.updatedAt, until);
    alert.history.push({ at: until, action: 'reopened', severity: alert.severity, by: 'ack-timeout', note: 'the acknowledgement lapsed' });
    this.emit({ action: 'reopened', alert: cloneAlert(alert) });
  }

  /**
   * A step of the notification stage recorded in an active alert's history (escalated_to,
   * reminded, silenced, unsilenced), placed in event-time order: the stage decides in
   * event time, behind the readings the engine has already applied. `silencedBy`, when
   * given, is set with it. False when the alert is not active here.
   */
  annotate(id: string, entry: AlertHistoryEntry, silencedBy?: string | null): Alert | undefined {
    const alert = this.byId.get(id);
    if (alert === undefined) return undefined;
    applyAnnotation(alert, entry, silencedBy);
    const copy = cloneAlert(alert);
    this.emit({ action: entry.action, alert: copy });
    return copy;
  }

  private finish(alert: Alert, at: number, by: string, note: string | undefined, value: number | null, wallClockAt?: number): Alert {
    alert.status = 'resolved';
    alert.resolvedAt = Math.max(at, alert.openedAt);
    alert.updatedAt = Math.max(alert.updatedAt, alert.resolvedAt);
    const entry: Alert['history'][number] = { at: alert.resolvedAt, action: 'resolved', severity: alert.severity, by };
    if (note !== undefined) entry.note = note;
    if (value !== null) {
      entry.value = value;
      alert.value = value;
    }
    if (wallClockAt !== undefined) entry.wallClockAt = wallClockAt;
    // Nobody saw it: marked for the shift report, in the same change as the resolve.
    if (alert.acknowledgedAt === null) alert.history.push({ at: alert.resolvedAt, action: 'unacknowledged', severity: alert.severity, by: 'engine' });
    alert.history.push(entry);
    const key = slot(alert.rule, alert.entityId);
    this.bySlot.delete(alert);
    this.byId.delete(alert.id);
    const previous = this.lastOpened.get(key);
    this.lastOpened.set(key, [alert.openedAt, previous !== undefined && previous[0] === alert.openedAt ? previous[1] : 1]);
    if (alert.acknowledgedUntil != null) alert.acknowledgedUntil = null;
    const copy = cloneAlert(alert);
    this.emit({ action: 'resolved', alert: copy });
    return copy;
  }

  snapshot(): Alert[] {
    return [...this.byId.values()].map(cloneAlert);
  }

  /** Opening instants of recently resolved alerts, for ids (see `lastOpened`). */
  snapshotResolved(): Array<[string, [number, number]]> {
    return [...this.lastOpened.entries()].map(([k, v]) => [k, [v[0], v[1]]]);
  }

  restoreResolved(entries: Array<[string, [number, number]]>): void {
    this.lastOpened.clear();
    for (const [k, v] of entries) this.lastOpened.set(k, [v[0], v[1]]);
  }

  /** Forgets resolved slots that opened before `horizon`: no new alert can open that early. */
  forgetResolvedBefore(horizon: number): void {
    for (const [k, v] of this.lastOpened) if (v[0] < horizon) this.lastOpened.delete(k);
  }

  restore(alerts: Alert[]): void {
    this.bySlot.clear();
    this.byId.clear();
    for (const a of alerts) {
      const alert = cloneAlert(a);
      this.bySlot.set(alert);
      this.byId.set(alert.id, alert);
    }
  }
}
