/**
 * The alert document (DESIGN §5) and its vocabulary.
 *
 * Severity uses China's four warning colours (《国家突发公共事件总体应急预案》: blue IV,
 * yellow III, orange II, red I), mapped onto CAP 1.2 severities for systems that speak CAP.
 */
import { formatRfc3339 } from '../events/event-time.js';

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

export type AlertAction = 'opened' | 'escalated' | 'acknowledged' | 'resolved';

export interface AlertHistoryEntry {
  /** Event time of the change, epoch ms. */
  at: number;
  action: AlertAction;
  severity: Severity;
  /** Who or what made the change: an operator's name, `event:<id>` or `watermark`. */
  by: string;
  note?: string;
  value?: number | null;
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
}

export interface AlertChange {
  action: AlertAction;
  /** The alert after the change (a copy; safe to keep). */
  alert: Alert;
}

export interface PublicAlert extends Omit<Alert, 'openedAt' | 'updatedAt' | 'acknowledgedAt' | 'resolvedAt' | 'history'> {
  capSeverity: string;
  level: string;
  openedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  history: Array<Omit<AlertHistoryEntry, 'at'> & { at: string }>;
}

export function toPublicAlert(a: Alert): PublicAlert {
  return {
    ...a,
    capSeverity: CAP_SEVERITY[a.severity],
    level: SEVERITY_LEVEL[a.severity],
    openedAt: formatRfc3339(a.openedAt),
    updatedAt: formatRfc3339(a.updatedAt),
    acknowledgedAt: a.acknowledgedAt === null ? null : formatRfc3339(a.acknowledgedAt),
    resolvedAt: a.resolvedAt === null ? null : formatRfc3339(a.resolvedAt),
    history: a.history.map((h) => ({ ...h, at: formatRfc3339(h.at) })),
  };
}

export function cloneAlert(a: Alert): Alert {
  return { ...a, history: a.history.map((h) => ({ ...h })) };
}
