/**
 * The alert document (DESIGN §5) and its vocabulary.
 *
 * Severity uses China's four warning colours (《国家突发公共事件总体应急预案》: blue IV,
 * yellow III, orange II, red I), mapped onto CAP 1.2 severities for systems that speak CAP.
 */
import { formatInZone } from '../time/time-zone.js';

export const SEVERITIES = ['blue', 'yellow', 'orange', 'red'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CAP_SEVERITY: Record<Severity, 'Minor' | 'Moderate' | 'Severe' | 'Extreme'> = {
  blue: 'Minor',
  yellow: 'Moderate',
  orange: 'Severe',
  red: 'Extreme',
};

/** Warning level in Roman numerals, as Chinese warning bulletins print it. */
export const SEVERITY_LEVEL: Record<Severity, 'IV' | 'III' | 'II' | 'I'> = {
  blue: 'IV',
  yellow: 'III',
  orange: 'II',
  red: 'I',
};

export const SEVERITY_ZH: Record<Severity, string> = { blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export const ALERT_CATEGORIES = ['flood', 'utility', 'parking', 'dispatch', 'sensor', 'kpi'] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * What a history entry records. The engine's alert lifecycle: opened, escalated (a worse
 * reading), acknowledged, reopened (an acknowledgement's `until` passed), resolved, and
 * `unacknowledged` right after a resolve that nobody had acknowledged. The notification
 * stage's own steps (src/notifications): escalated_to (the escalation policy notified
 * its route), reminded, silenced and unsilenced (a silence began or ended).
 */
export type AlertAction =
  | 'opened'
  | 'escalated'
  | 'acknowledged'
  | 'reopened'
  | 'resolved'
  | 'unacknowledged'
  | 'escalated_to'
  | 'reminded'
  | 'silenced'
  | 'unsilenced';

/** Actions the notification stage writes into an alert's history (never the engine). */
export const STAGE_ACTIONS: ReadonlySet<AlertAction> = new Set(['escalated_to', 'reminded', 'silenced', 'unsilenced']);

export interface AlertHistoryEntry {
  /** Event time of the change, epoch ms. */
  at: number;
  action: AlertAction;
  severity: Severity;
  /** Who or what made the change: an operator's name, `event:<id>` or `watermark`. */
  by: string;
  note?: string;
  value?: number | null;
  /** escalated_to / reminded: the route notified. */
  route?: string;
  /** acknowledged: the acknowledgement lapses at this event time (epoch ms). */
  until?: number;
  /**
   * An operator's action: the wall-clock time it was done, epoch ms, beside `at` (the
   * stream's event-time clock, which a replay or a lagging source holds back).
   */
  wallClockAt?: number;
}

/** Internal form: times are epoch ms. `toPublicAlert` gives the API form. */
export interface Alert {
  id: string;
  rule: string;
  category: AlertCategory;
  entityId: string;
  severity: Severity;
  status: AlertStatus;
  title: string;
  titleEn: string;
  message: string;
  messageEn: string;
  district: string;
  value: number | null;
  threshold: number | null;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  history: AlertHistoryEntry[];
  /**
   * The worst value while active (the highest depth or concentration) and when it was read;
   * `value` is the latest reading. Absent in alerts stored before peaks were kept.
   */
  peakValue?: number | null;
  peakAt?: number | null;
  /** The acknowledgement lapses at this event time; the alert is then `open` again. */
  acknowledgedUntil?: number | null;
  /** Id of the silence holding the alert's notifications back, or null. */
  silencedBy?: string | null;
  /** Where, when the reading said (WGS 84). */
  location?: { lat: number; lon: number } | null;
}

export interface AlertChange {
  action: AlertAction;
  /** The alert after the change (a copy; safe to keep). */
  alert: Alert;
}

export interface PublicAlert
  extends Omit<Alert, 'openedAt' | 'updatedAt' | 'acknowledgedAt' | 'resolvedAt' | 'history' | 'peakValue' | 'peakAt' | 'acknowledgedUntil' | 'silencedBy' | 'location'> {
  capSeverity: string;
  level: string;
  /** How many changes the alert has had (its history's length): with `id`, it names one state of the alert. */
  version: number;
  openedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  peakValue: number | null;
  peakAt: string | null;
  acknowledgedUntil: string | null;
  silencedBy: string | null;
  location: { lat: number; lon: number } | null;
  history: Array<Omit<AlertHistoryEntry, 'at' | 'until' | 'wallClockAt'> & { at: string; until?: string; wallClockAt?: string }>;
}

/** An alert's version: the number of changes it has had, one history entry each. */
export function versionOf(a: Alert): number {
  return a.history.length;
}

/** The API form: times as RFC 3339 with the offset of `zone` (HUITIAN_TIMEZONE). */
export function toPublicAlert(a: Alert, zone: string): PublicAlert {
  const time = (t: number | null | undefined) => (t === null || t === undefined ? null : formatInZone(t, zone));
  return {
    ...a,
    capSeverity: CAP_SEVERITY[a.severity],
    level: SEVERITY_LEVEL[a.severity],
    version: versionOf(a),
    openedAt: formatInZone(a.openedAt, zone),
    updatedAt: formatInZone(a.updatedAt, zone),
    acknowledgedAt: time(a.acknowledgedAt),
    resolvedAt: time(a.resolvedAt),
    // Absent until a later reading beats the opening one.
    peakValue: a.peakValue ?? a.history[0]?.value ?? a.value,
    peakAt: a.peakAt === undefined || a.peakAt === null ? ((a.history[0]?.value ?? a.value) === null ? null : formatInZone(a.openedAt, zone)) : time(a.peakAt),
    acknowledgedUntil: time(a.acknowledgedUntil),
    silencedBy: a.silencedBy ?? null,
    location: a.location ?? null,
    history: a.history.map((h) => {
      const { until, wallClockAt, ...rest } = h;
      const entry: PublicAlert['history'][number] = { ...rest, at: formatInZone(h.at, zone) };
      if (until !== undefined) entry.until = formatInZone(until, zone);
      if (wallClockAt !== undefined) entry.wallClockAt = formatInZone(wallClockAt, zone);
      return entry;
    }),
  };
}

export function cloneAlert(a: Alert): Alert {
  const copy = { ...a, history: a.history.map((h) => ({ ...h })) };
  if (a.location != null) copy.location = { ...a.location };
  return copy;
}
