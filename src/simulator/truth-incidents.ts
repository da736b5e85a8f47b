/**
 * The fire-response truth: each fire or rescue incident decided from the events the
 * service accepts, by the definition of issue 2 — not by the engine's code.
 *
 * Clock start S: the first dispatch order, unless a unit arrived before any order was
 * recorded (then the call's receipt). First arrival A: the earliest over all units.
 * Close C. With L = S + 300 s:
 *   covered  — A ≤ L, and A no later than C;
 *   excluded — otherwise, closed at or before L (cancelled, false alarm before arrival);
 *   missed   — otherwise.
 * An incident is decided once the final watermark has passed min(A, C, L); later ones
 * are `undecided` (the stream ended first). An incident never dispatched is left out; if
 * it is still open 24 h after its call, and the final watermark has passed that, the
 * service has evicted it and counts it as `unresolved` (one closed without dispatch — a
 * false alarm settled on the phone — was resolved, not left pending). The response time
 * A − S of covered incidents, and of missed ones whose arrival (no later than the close)
 * the watermark has passed, feeds the 90th percentile.
 */
import type { IncidentCategory } from '../events/schemas.js';
import { percentileOfSeconds } from '../kpis/histogram.js';
import type { SimEvent } from './sim-event.js';
import { formatBeijing } from './sim-event.js';

export const RESPONSE_LIMIT_S = 300;
const IN_SCOPE: ReadonlySet<IncidentCategory> = new Set(['fire', 'rescue']);
const EVICT_AFTER_MS = 24 * 3600_000;

export type IncidentOutcome = 'covered' | 'missed' | 'excluded' | 'undecided' | 'not_dispatched';

interface Facts {
  received: number | null;
  category: IncidentCategory | null;
  district: string | null;
  firstDispatch: number | null;
  station: string | null;
  /** Unit of the first dispatch, for the tie rule between orders at one instant. */
  firstDispatchUnit: string | null;
  firstArrival: number | null;
  closed: number | null;
  closeReason: string | null;
}

export interface IncidentTruth {
  incidentId: string;
  category: IncidentCategory;
  district: string;
  station: string | null;
  receivedAt: string;
  clockStart: string | null;
  firstArrival: string | null;
  closedAt: string | null;
  closeReason: string | null;
  responseSeconds: number | null;
  /** Whether the response time is in the service's p90 histogram. */
  inP90: boolean;
  outcome: IncidentOutcome;
}

export interface CoverageTruth {
  covered: number;
  missed: number;
  /** covered ÷ (covered + missed), or null when nothing was decided. */
  value: number | null;
  excluded: number;
  undecided: number;
  notDispatched: number;
}

export interface FireResponseTruth {
  clockStart: 'dispatched';
  limitSeconds: number;
  overall: CoverageTruth;
  byDistrict: Record<string, CoverageTruth>;
  /** percentileOfSeconds(responseSeconds of the p90 incidents, 0.9) — the service's histogram rule. */
  responseTimeP90Seconds: number | null;
  responseTimeCount: number;
  /** Never-dispatched incidents still open 24 h after the call, evicted by the final watermark. */
  unresolved: number;
  outOfScopeIncidents: number;
  incidents: IncidentTruth[];
}

export class IncidentTruthBuilder {
  private readonly facts = new Map<string, Facts>();

  /** Folds one accepted dispatch event. */
  add(e: SimEvent): void {
    if (!e.type.startsWith('huitian.dispatch.')) return;
    const incidentId = (e.data as { incidentId: string }).incidentId;
    let f = this.facts.get(incidentId);
    if (f === undefined) {
      f = { received: null, category: null, district: null, firstDispatch: null, station: null, firstDispatchUnit: null, firstArrival: null, closed: null, closeReason: null };
      this.facts.set(incidentId, f);
    }
    switch (e.type) {
      case 'huitian.dispatch.received':
        if (f.received === null || e.time < f.received) {
          f.received = e.time;
          f.category = e.data.category;
          f.district = e.data.district;
        }
        break;
      case 'huitian.dispatch.dispatched': {
        // The README's tie rule: of orders at one instant, one naming a station, then the smallest unit.
        const d = e.data as { unitId: string; station?: string };
        const station = d.station ?? null;
        const first =
          f.firstDispatch === null ||
          e.time < f.firstDispatch ||
          (e.time === f.firstDispatch &&
            (station !== null && f.station === null ? true : station === null && f.station !== null ? false : d.unitId < (f.firstDispatchUnit ?? '')));
        if (first) {
          f.firstDispatch = e.time;
          f.station = station;
          f.firstDispatchUnit = d.unitId;
        }
        break;
      }
      case 'huitian.dispatch.arrived':
        if (f.firstArrival === null || e.time < f.firstArrival) f.firstArrival = e.time;
        break;
      case 'huitian.dispatch.closed':
        if (f.closed === null || e.time < f.closed) {
          f.closed = e.time;
          f.closeReason = e.data.reason;
        }
        break;
    }
  }

  finish(finalWatermark: number): FireResponseTruth {
    const empty = (): CoverageTruth => ({ covered: 0, missed: 0, value: null, excluded: 0, undecided: 0, notDispatched: 0 });
    const overall = empty();
    const byDistrict: Record<string, CoverageTruth> = {};
    const p90Seconds: number[] = [];
    const incidents: IncidentTruth[] = [];
    let unresolved = 0;
    let outOfScope = 0;
    for (const [incidentId, f] of this.facts) {
      if (f.received === null || f.category === null || f.district === null) continue; // never happens: receipts are never made late
      if (!IN_SCOPE.has(f.category)) {
        outOfScope++;
        continue;
      }
      const A = f.firstArrival;
      const C = f.closed;
      let S: number | null = null;
      if (f.firstDispatch !== null && (A === null || f.firstDispatch <= A)) S = f.firstDispatch;
      else if (A !== null) S = f.received;
      let outcome: IncidentOutcome;
      let responseSeconds: number | null = null;
      let inP90 = false;
      if (S === null) {
        outcome = 'not_dispatched';
        const evictedAt = f.received + EVICT_AFTER_MS;
        if (evictedAt < finalWatermark && (C === null || C > evictedAt)) unresolved++;
      } else {
        const limit = S + RESPONSE_LIMIT_S * 1000;
        const due = Math.min(A ?? limit, C ?? limit, limit);
        if (A !== null) responseSeconds = (A - S) / 1000;
        if (!(due < finalWatermark)) outcome = 'undecided';
        else if (A !== null && A <= limit && (C === null || A <= C)) outcome = 'covered';
        else if (C !== null && C <= limit) outcome = 'excluded';
        else outcome = 'missed';
        inP90 = A !== null && (outcome === 'covered' || (outcome === 'missed' && A < finalWatermark && (C === null || A <= C)));
        if (inP90) p90Seconds.push(responseSeconds!);
      }
      const d = (byDistrict[f.district] ??= empty());
      for (const c of [overall, d]) {
        if (outcome === 'covered') c.covered++;
        else if (outcome === 'missed') c.missed++;
        else if (outcome === 'excluded') c.excluded++;
        else if (outcome === 'undecided') c.undecided++;
        else c.notDispatched++;
      }
      incidents.push({
        incidentId,
        category: f.category,
        district: f.district,
        station: f.station,
        receivedAt: formatBeijing(f.received),
        clockStart: S === null ? null : formatBeijing(S),
        firstArrival: A === null ? null : formatBeijing(A),
        closedAt: C === null ? null : formatBeijing(C),
        closeReason: f.closeReason,
        responseSeconds,
        inP90,
        outcome,
      });
    }
    for (const c of [overall, ...Object.values(byDistrict)]) c.value = c.covered + c.missed === 0 ? null : c.covered / (c.covered + c.missed);
    return {
      clockStart: 'dispatched',
      limitSeconds: RESPONSE_LIMIT_S,
      overall,
      byDistrict: Object.fromEntries(Object.entries(byDistrict).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      responseTimeP90Seconds: percentileOfSeconds(p90Seconds, 0.9),
      responseTimeCount: p90Seconds.length,
      unresolved,
      outOfScopeIncidents: outOfScope,
      incidents,
    };
  }
}
