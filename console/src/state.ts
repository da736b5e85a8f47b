/** What the screen shows, in one object; views read it, `main.ts` changes it and asks for a redraw. */
import type { Lang } from './i18n.js';

export type Severity = 'blue' | 'yellow' | 'orange' | 'red';
export const SEVERITY_RANK: Record<string, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };

export interface HistoryEntry {
  at: string;
  wallClockAt?: string;
  action: string;
  severity: Severity;
  by: string;
  note?: string;
  value?: number | null;
}

export interface Alert {
  id: string;
  rule: string;
  category: string;
  entityId: string;
  severity: Severity;
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  titleEn: string;
  message: string;
  messageEn: string;
  district: string;
  value: number | null;
  threshold: number | null;
  /** From the delivery work (issue 12) once it lands; shown when present. */
  peakValue?: number | null;
  peakAt?: string | null;
  openedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  history: HistoryEntry[];
}

export interface Caller {
  role: 'viewer' | 'operator' | 'ingest' | 'admin';
  name: string;
}

export interface Status {
  caller: Caller | null;
  auth: boolean;
  timeZone: string;
  timeMode: 'live' | 'replay';
  now: string;
  ready: boolean;
  checks: Array<{ name: string; ready: boolean; problem: string | null }>;
  watermark: string | null;
  maxEventTime: string | null;
  lagSeconds: number | null;
  activeAlerts: number;
}

export interface KpiGroup {
  key: Record<string, string>;
  value: number | null;
  [k: string]: unknown;
}

export interface KpiAnswer {
  name: string;
  kind: string;
  unit: string;
  value: number | null;
  target: number | null;
  meetsTarget: boolean | null;
  groups: KpiGroup[];
  from: string;
  to: string;
  [k: string]: unknown;
}

export interface KpiInfo {
  name: string;
  title: string;
  titleEn: string;
  unit: string;
  target: number | null;
  targetDirection: 'atLeast' | 'atMost' | 'below' | null;
  targetBasis: string;
  targetBasisEn: string;
}

export interface PlanTarget {
  id: string;
  title: string;
  titleEn: string;
  target: number;
  direction: 'atLeast' | 'atMost';
  unit: string;
  status: 'measured' | 'no_data' | 'not_measured';
  value: number | null;
  meetsTarget: boolean | null;
  reason: string | null;
  reasonEn: string | null;
  method: string;
  methodEn: string;
}

export interface Filters {
  severity: string;
  category: string;
  district: string;
  status: string;
}

export interface State {
  lang: Lang;
  status: Status | null;
  /** Whether this caller may acknowledge and resolve (operator, admin, or auth off). */
  canOperate: boolean;
  alerts: Map<string, Alert>;
  filters: Filters;
  selected: string | null;
  catalogue: Map<string, KpiInfo>;
  kpis: Map<string, KpiAnswer>;
  targets: PlanTarget[];
  stream: 'connecting' | 'live' | 'reconnecting';
  muted: boolean;
  /** Ids of red alerts not yet looked at: their rows pulse. */
  unseenRed: Set<string>;
}

export function initialState(lang: Lang, muted: boolean): State {
  return {
    lang,
    status: null,
    canOperate: false,
    alerts: new Map(),
    filters: { severity: '', category: '', district: '', status: 'active' },
    selected: null,
    catalogue: new Map(),
    kpis: new Map(),
    targets: [],
    stream: 'connecting',
    muted,
    unseenRed: new Set(),
  };
}

/**
 * Keeps the newer of two states of one alert. Every change appends to its history, so the
 * longer history is the newer state, whichever arrived last (the list or the stream).
 */
export function newer(a: Alert | undefined, b: Alert): Alert {
  if (a === undefined) return b;
  return b.history.length >= a.history.length ? b : a;
}

/** The alerts the filters let through: most severe first, then the most recently changed. */
export function visibleAlerts(state: State): Alert[] {
  const f = state.filters;
  const out = [...state.alerts.values()].filter(
    (a) =>
      (f.severity === '' || a.severity === f.severity) &&
      (f.category === '' || a.category === f.category) &&
      (f.district === '' || a.district === f.district) &&
      (f.status === '' || (f.status === 'active' ? a.status !== 'resolved' : a.status === f.status)),
  );
  return out.sort(
    (a, b) =>
      Number(a.status === 'resolved') - Number(b.status === 'resolved') ||
      SEVERITY_RANK[b.severity]! - SEVERITY_RANK[a.severity]! ||
      Date.parse(b.updatedAt) - Date.parse(a.updatedAt) ||
      (a.id < b.id ? -1 : 1),
  );
}
