/** What the screen shows, in one object; views read it, `main.ts` changes it and asks for a redraw. */
import type { Lang } from './i18n.js';

/*
 * The API's bodies, inferred from the zod schemas the service serializes them through
 * (src/http/answer-schemas.ts, which /docs/json is generated from): a field the service
 * renames or drops fails the console's type check instead of the duty officer's screen.
 * Type-only imports: nothing of zod or the service reaches the bundle.
 */
import type { z } from 'zod';
import type { alertSchema, catalogueEntry, historyEntry, kpiResult, planTarget, statusSchema } from '../../src/http/answer-schemas.js';

export type Alert = z.infer<typeof alertSchema>;
export type HistoryEntry = z.infer<typeof historyEntry>;
export type Severity = Alert['severity'];
export type Status = z.infer<typeof statusSchema>;
export type Caller = NonNullable<Status['caller']>;
export type KpiAnswer = z.infer<typeof kpiResult>;
export type KpiGroup = KpiAnswer['groups'][number];
export type KpiInfo = z.infer<typeof catalogueEntry>;
export type PlanTarget = z.infer<typeof planTarget>;

export const SEVERITY_RANK: Record<Severity, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };

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
