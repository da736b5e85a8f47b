/**
 * The notification stage (issue 12): decides, in event time, which notifications go to
 * which route — grouping, escalation of unacknowledged alerts, reminders, silences. Pure:
 * no I/O, no clock; the outbox and the HTTP calls are adapters (src/delivery).
 *
 * ## The interface (for whoever hosts it: the embedded pipeline today; in a cluster, the
 * single owner of the global stage, fed from the compacted alerts topic)
 *
 *   offer(transitions)      committed alert transitions ({action, alert doc}), in commit order
 *   advance(watermark)      event time has reached `watermark` → StageOutput
 *   addSilence(silence)     operator input (logged by the host, replayed in the same place)
 *   expireSilence(id, at)   operator input: end a silence at event time `at`
 *   snapshot() / restore()  the stage's whole state, taken beside the input position it covers
 *
 *   StageOutput = { notifications, annotations }
 *     notifications: what to send to which route's receivers; deterministic ids, so the
 *       host's outbox can insert them idempotently after a restart that re-derives them;
 *     annotations: history entries (escalated_to, reminded, silenced, unsilenced) and
 *       `silencedBy` for the alert's owner to record (AlertBook.annotate, or the stored
 *       document of an alert that is no longer active).
 *
 * The host offers every transition it commits, then advances to the step's watermark;
 * the stage ignores its own annotations coming back as transitions. It never reads the
 * engine.
 *
 * ## Why it runs behind the watermark
 * Inputs are processed in event-time order once the watermark has passed them (ties: by
 * time, then alert id, then arrival), interleaved with the stage's own timers (group
 * windows, escalations, silence edges). So a decision at time T sees exactly the alert
 * changes at or before T, whatever the batching of the input and however far the engine
 * ran ahead: an unacknowledged red alert is escalated at T even if the reading that
 * resolves it 10 s later had already been applied. The price is the allowed lateness:
 * nothing is notified before the watermark passes it. A notification's alert document is
 * the stage's own view as of its time (history and `silencedBy` as the stage has them),
 * for the same reason.
 */
import { createHash } from 'node:crypto';
import { STAGE_ACTIONS, severityRank, type Alert, type AlertAction, type AlertHistoryEntry } from '../alerts/alert.js';
import { TimerQueue, type Timer } from '../time/timer-queue.js';
import type { NotificationsConfig, RouteConfig } from './notifications-config.js';
import { silenceMatches, type Silence } from './silences.js';

export interface StageTransition {
  action: AlertAction;
  alert: Alert;
}

export type NotificationReason = 'transitions' | 'escalation' | 'reminder';

export interface NotificationItem {
  /** The last change of this alert in the notification, and all of them in order. */
  action: AlertAction;
  actions: AlertAction[];
  version: number;
  alert: Alert;
}

export interface Notification {
  id: string;
  /** `<alert id>:<version>` for one alert; the notification id for a group. */
  idempotencyKey: string;
  reason: NotificationReason;
  route: string;
  receivers: string[];
  /** Event time of the decision (epoch ms). */
  at: number;
  groupKey: Record<string, string> | null;
  items: NotificationItem[];
}

export interface Annotation {
  alertId: string;
  entry: AlertHistoryEntry;
  silencedBy?: string | null;
}

export interface StageOutput {
  notifications: Notification[];
  annotations: Annotation[];
}

interface Queued {
  at: number;
  seq: number;
  action: AlertAction;
  alert: Alert;
}

interface Tracked {
  /** The stage's view of the alert: the last transition's fields, its own history. */
  doc: Alert;
  /** Start of the current open-and-unacknowledged period; null while acknowledged. */
  unackSince: number | null;
  escalated: boolean;
  lastStepAt: number;
  /** Bumped to void scheduled escalation timers. */
  token: number;
}

interface Batch {
  route: string;
  groupKey: Record<string, string>;
  items: Array<{ alertId: string; actions: AlertAction[]; alert: Alert }>;
}

export interface StageSnapshot {
  now: number | null;
  seq: number;
  queue: Queued[];
  tracked: Array<[string, Tracked]>;
  silences: Array<[string, Silence & { effectiveFrom: number }]>;
  batches: Array<[string, Batch]>;
  timers: ReturnType<TimerQueue['snapshot']>;
}

const ESCALATION = 'escalation';
const GROUP = 'group';
const SILENCE_START = 'silence-start';
const SILENCE_END = 'silence-end';
const MINUTE = 60_000;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

export function routeMatches(route: RouteConfig, a: Alert): boolean {
  const m = route.match;
  if (m.category !== undefined && !m.category.includes(a.category)) return false;
  if (m.severity !== undefined && severityRank(a.severity) < severityRank(m.severity)) return false;
  if (m.district !== undefined && !m.district.includes(a.district)) return false;
  if (m.rule !== undefined && !m.rule.includes(a.rule)) return false;
  return true;
}

/** The history entries a change added: its last, or two for a resolve nobody acknowledged (`unacknowledged`, `resolved`). */
function entriesOf(q: Queued): AlertHistoryEntry[] {
  const h = q.alert.history;
  const n = q.action === 'resolved' && h[h.length - 2]?.action === 'unacknowledged' ? 2 : 1;
  return h.slice(-n);
}

function before(a: Queued, b: Queued): number {
  return a.at - b.at || (a.alert.id < b.alert.id ? -1 : a.alert.id > b.alert.id ? 1 : 0) || a.seq - b.seq;
}

export class NotificationStage {
  private now = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private queue: Queued[] = [];
  private readonly tracked = new Map<string, Tracked>();
  private readonly silences = new Map<string, Silence & { effectiveFrom: number }>();
  private readonly batches = new Map<string, Batch>();
  private readonly timers = new TimerQueue();
  private readonly routes = new Map<string, RouteConfig>();
  private out: StageOutput = { notifications: [], annotations: [] };

  constructor(private readonly config: NotificationsConfig) {
    for (const r of config.routes) this.routes.set(r.name, r);
  }

  /** The event time the stage has decided up to (the last watermark it was advanced to). */
  get time(): number {
    return this.now;
  }

  get trackedCount(): number {
    return this.tracked.size;
  }

  /** Committed transitions, in commit order; decided once the watermark passes them. */
  offer(transitions: readonly StageTransition[]): void {
    for (const t of transitions) {
      if (STAGE_ACTIONS.has(t.action)) continue;
      const entry = t.alert.history[t.alert.history.length - 1];
      const q: Queued = { at: entry?.at ?? t.alert.updatedAt, seq: this.seq++, action: t.action, alert: t.alert };
      // Mostly appended in order; a binary search keeps the rare out-of-order one cheap.
      let lo = 0;
      let hi = this.queue.length;
      if (hi > 0 && before(this.queue[hi - 1]!, q) <= 0) lo = hi;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(this.queue[mid]!, q) <= 0) lo = mid + 1;
        else hi = mid;
      }
      this.queue.splice(lo, 0, q);
    }
  }

  /** Decides everything before `watermark`, in event-time order. */
  advance(watermark: number): StageOutput {
    let qi = 0;
    for (;;) {
      const q = this.queue[qi];
      const t = this.timers.peek();
      const qDue = q !== undefined && q.at < watermark ? q.at : Number.POSITIVE_INFINITY;
      const tDue = t !== undefined && t.due < watermark ? t.due : Number.POSITIVE_INFINITY;
      if (qDue === Number.POSITIVE_INFINITY && tDue === Number.POSITIVE_INFINITY) break;
      // At one instant, the alerts' own changes come before the stage's timers: an
      // acknowledgement at T stops the reminder due at T.
      if (qDue <= tDue) {
        qi++;
        this.onTransition(q!);
      } else {
        this.onTimer(this.timers.pop()!);
      }
    }
    if (qi > 0) this.queue = this.queue.slice(qi);
    if (watermark > this.now) this.now = watermark;
    const out = this.out;
    this.out = { notifications: [], annotations: [] };
    return out;
  }

  /** A new silence (operator input). Effective from its start, or from now if that has passed. */
  addSilence(s: Silence): void {
    const effectiveFrom = Number.isFinite(this.now) ? Math.max(s.startsAt, this.now) : s.startsAt;
    this.silences.set(s.id, { ...s, effectiveFrom });
    this.timers.schedule(effectiveFrom, SILENCE_START, s.id);
    this.timers.schedule(s.endsAt, SILENCE_END, `${s.id}\u0000${s.endsAt}`);
  }

  /** Ends a silence at event time `at` (operator input); the silence as it now is, or undefined if it had ended. */
  expireSilence(id: string, at: number): Silence | undefined {
    const s = this.silences.get(id);
    if (s === undefined) return undefined;
    const endsAt = Math.max(s.effectiveFrom, Math.min(s.endsAt, at));
    if (endsAt !== s.endsAt) {
      s.endsAt = endsAt;
      this.timers.schedule(endsAt, SILENCE_END, `${s.id}\u0000${endsAt}`);
    }
    const { effectiveFrom: _, ...silence } = s;
    return silence;
  }

  private onTransition(q: Queued): void {
    const engineDoc = q.alert;
    const id = engineDoc.id;
    let t = this.tracked.get(id);
    if (t === undefined) {
      // The opening, or an alert that was active before the stage knew it (a data file
      // from before notifications): adopted with its history as it is.
      const history = q.action === 'opened' ? engineDoc.history.slice(-1) : engineDoc.history.filter((h) => !STAGE_ACTIONS.has(h.action));
      t = { doc: { ...engineDoc, history, silencedBy: null }, unackSince: null, escalated: false, lastStepAt: q.at, token: 0 };
      this.tracked.set(id, t);
      if (engineDoc.status === 'open') t.unackSince = q.at;
      const silence = this.silenceFor(t.doc, q.at);
      if (silence !== undefined) this.markSilenced(t, silence, q.at);
    } else {
      const wasAcknowledged = t.doc.status === 'acknowledged';
      t.doc = { ...engineDoc, history: [...t.doc.history, ...entriesOf(q)], silencedBy: t.doc.silencedBy ?? null };
      if (q.action === 'acknowledged') t.unackSince = null;
      else if (engineDoc.status === 'open' && (wasAcknowledged || t.unackSince === null)) {
        t.unackSince = q.at;
        t.escalated = false;
      }
    }
    this.notifyRoutes(t.doc, q.action, q.at);
    if (engineDoc.status === 'resolved') {
      this.tracked.delete(id);
      return;
    }
    this.scheduleEscalation(t, q.at);
  }

  private onTimer(timer: Timer): void {
    switch (timer.kind) {
      case GROUP:
        this.flush(timer.key, timer.due);
        return;
      case ESCALATION: {
        const [id, token] = timer.key.split('\u0000');
        const t = this.tracked.get(id!);
        if (t === undefined || String(t.token) !== token) return;
        this.escalate(t, timer.due);
        return;
      }
      case SILENCE_START: {
        const s = this.silences.get(timer.key);
        if (s === undefined || s.effectiveFrom !== timer.due || s.endsAt <= timer.due) return;
        for (const t of this.tracked.values()) {
          if ((t.doc.silencedBy ?? null) === null && silenceMatches(s, t.doc)) this.markSilenced(t, s, timer.due);
        }
        return;
      }
      case SILENCE_END: {
        const [id, endsAt] = timer.key.split('\u0000');
        const s = this.silences.get(id!);
        if (s === undefined || String(s.endsAt) !== endsAt) return;
        this.silences.delete(s.id);
        for (const t of this.tracked.values()) {
          if (t.doc.silencedBy !== s.id) continue;
          const other = this.silenceFor(t.doc, timer.due);
          if (other !== undefined) {
            this.markSilenced(t, other, timer.due);
            continue;
          }
          this.annotate(t, { at: timer.due, action: 'unsilenced', severity: t.doc.severity, by: `silence:${s.id}` }, null);
          // Told now what the silence held back; an open alert gets its escalation time again.
          this.notifyRoutes(t.doc, 'unsilenced', timer.due);
          if (t.doc.status === 'open') {
            t.unackSince = timer.due;
            t.escalated = false;
          }
          this.scheduleEscalation(t, timer.due);
        }
        return;
      }
    }
  }

  private silenceFor(doc: Alert, at: number): (Silence & { effectiveFrom: number }) | undefined {
    for (const s of this.silences.values()) if (s.effectiveFrom <= at && at < s.endsAt && silenceMatches(s, doc)) return s;
    return undefined;
  }

  private markSilenced(t: Tracked, s: Silence, at: number): void {
    const entry: AlertHistoryEntry = { at, action: 'silenced', severity: t.doc.severity, by: `silence:${s.id}` };
    if (s.comment !== '') entry.note = s.comment;
    this.annotate(t, entry, s.id);
    t.token++;
  }

  private annotate(t: Tracked, entry: AlertHistoryEntry, silencedBy?: string | null): void {
    t.doc = { ...t.doc, history: [...t.doc.history, entry] };
    if (silencedBy !== undefined) t.doc.silencedBy = silencedBy;
    const a: Annotation = { alertId: t.doc.id, entry };
    if (silencedBy !== undefined) a.silencedBy = silencedBy;
    this.out.annotations.push(a);
  }

  private notifyRoutes(doc: Alert, action: AlertAction, at: number): void {
    if ((doc.silencedBy ?? null) !== null) return;
    for (const route of this.config.routes) {
      if (route.escalationOnly || !routeMatches(route, doc)) continue;
      if ((route.actions as readonly string[]).includes(action)) this.addToGroup(route, doc, action, at);
      if (!route.continue) break;
    }
  }

  private addToGroup(route: RouteConfig, doc: Alert, action: AlertAction, at: number): void {
    if (route.groupWaitSeconds === 0) {
      this.emit(route, 'transitions', at, null, [{ alertId: doc.id, actions: [action], alert: doc }]);
      return;
    }
    const groupKey: Record<string, string> = {};
    for (const f of route.groupBy) groupKey[f] = String(doc[f]);
    const key = `${route.name}\u0000${route.groupBy.map((f) => groupKey[f]).join('\u0000')}`;
    let batch = this.batches.get(key);
    if (batch === undefined) {
      batch = { route: route.name, groupKey, items: [] };
      this.batches.set(key, batch);
      // The window is [first change, first change + groupWait], decided in event time:
      // every change in it is processed before this timer (changes first at equal times).
      this.timers.schedule(at + route.groupWaitSeconds * 1000, GROUP, key);
    }
    const item = batch.items.find((i) => i.alertId === doc.id);
    if (item === undefined) batch.items.push({ alertId: doc.id, actions: [action], alert: doc });
    else {
      item.actions.push(action);
      item.alert = doc;
    }
  }

  private flush(key: string, at: number): void {
    const batch = this.batches.get(key);
    if (batch === undefined) return;
    this.batches.delete(key);
    const route = this.routes.get(batch.route);
    if (route === undefined) return;
    this.emit(route, 'transitions', at, batch.groupKey, batch.items);
  }

  private emit(route: RouteConfig, reason: NotificationReason, at: number, groupKey: Record<string, string> | null, items: Batch['items']): void {
    const list: NotificationItem[] = items.map((i) => ({ action: i.actions[i.actions.length - 1]!, actions: [...i.actions], version: i.alert.history.length, alert: i.alert }));
    const id = `nt_${hash(`${route.name}\u0000${reason}\u0000${at}\u0000${list.map((i) => `${i.alert.id}:${i.version}`).join(',')}`)}`;
    const only = list.length === 1 ? list[0]! : undefined;
    this.out.notifications.push({
      id,
      idempotencyKey: only !== undefined ? `${only.alert.id}:${only.version}` : id,
      reason,
      route: route.name,
      receivers: [...route.receivers],
      at,
      groupKey,
      items: list,
    });
  }

  private scheduleEscalation(t: Tracked, at: number): void {
    t.token++;
    const policy = this.config.escalation[t.doc.severity];
    if (policy === undefined || t.unackSince === null || t.doc.status !== 'open' || (t.doc.silencedBy ?? null) !== null) return;
    let due: number;
    if (!t.escalated) due = Math.max(t.unackSince + policy.afterMinutes * MINUTE, at);
    else if (policy.repeatMinutes > 0) due = Math.max(t.lastStepAt + policy.repeatMinutes * MINUTE, at);
    else return;
    this.timers.schedule(due, ESCALATION, `${t.doc.id}\u0000${t.token}`);
  }

  private escalate(t: Tracked, at: number): void {
    const policy = this.config.escalation[t.doc.severity];
    if (policy === undefined || t.doc.status !== 'open' || (t.doc.silencedBy ?? null) !== null) return;
    const route = this.routes.get(policy.route);
    if (route === undefined) return;
    const action: AlertAction = t.escalated ? 'reminded' : 'escalated_to';
    this.annotate(t, { at, action, severity: t.doc.severity, by: `escalation:${t.doc.severity}`, route: route.name });
    t.escalated = true;
    t.lastStepAt = at;
    this.emit(route, action === 'reminded' ? 'reminder' : 'escalation', at, null, [{ alertId: t.doc.id, actions: [action], alert: t.doc }]);
    this.scheduleEscalation(t, at);
  }

  snapshot(): StageSnapshot {
    return {
      now: Number.isFinite(this.now) ? this.now : null,
      seq: this.seq,
      queue: this.queue.map((q) => ({ ...q })),
      tracked: [...this.tracked.entries()].map(([k, v]) => [k, { ...v }]),
      silences: [...this.silences.entries()].map(([k, v]) => [k, { ...v }]),
      batches: [...this.batches.entries()].map(([k, v]) => [k, { ...v, items: v.items.map((i) => ({ ...i, actions: [...i.actions] })) }]),
      timers: this.timers.snapshot(),
    };
  }

  static restore(config: NotificationsConfig, s: StageSnapshot): NotificationStage {
    const stage = new NotificationStage(config);
    stage.now = s.now ?? Number.NEGATIVE_INFINITY;
    stage.seq = s.seq;
    stage.queue = s.queue.map((q) => ({ ...q }));
    for (const [k, v] of s.tracked) stage.tracked.set(k, { ...v });
    for (const [k, v] of s.silences) stage.silences.set(k, { ...v });
    for (const [k, v] of s.batches) stage.batches.set(k, { ...v, items: v.items.map((i) => ({ ...i, actions: [...i.actions] })) });
    stage.timers.restore(s.timers);
    return stage;
  }

  /** Active silences as the stage holds them (ended ones are dropped). */
  activeSilenceIds(): string[] {
    return [...this.silences.keys()];
  }
}
