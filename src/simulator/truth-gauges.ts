/**
 * The truth about readings, from the events the service accepts:
 * - waterlogging: each point's peak depth as the per-minute gauge will show it (readings
 *   before the last minute the final watermark has closed), and the worst warning level
 *   its readings reach (15 / 27 / 40 cm, acting on every accepted reading);
 * - parking: which lots are full (≥ 95 %) for 5 minutes, replayed in event-time order:
 *   the alert opens when a lot has been full for 5 minutes without a break, resolves at
 *   a reading below 90 %, and can open again after that;
 * - gas: each line's peak %LEL and the level it reaches (20 / 50 %LEL);
 * - operators' alarms raised and cleared.
 * Thresholds are those of issue 2's default rules.
 */
import type { SimEvent } from './sim-event.js';
import { formatBeijing } from './sim-event.js';

const MINUTE = 60_000;
const DEPTH_LEVELS: Array<[string, number]> = [['yellow', 15], ['orange', 27], ['red', 40]];
const GAS_LEVELS: Array<[string, number]> = [['orange', 20], ['red', 50]];
export const PARKING_FULL_RATIO = 0.95;
export const PARKING_CLEAR_RATIO = 0.9;
export const PARKING_FOR_MS = 5 * MINUTE;

function levelOf(levels: Array<[string, number]>, value: number): string | null {
  let reached: string | null = null;
  for (const [name, atLeast] of levels) if (value >= atLeast) reached = name;
  return reached;
}

export interface PointTruth {
  pointId: string;
  name: string;
  district: string;
  /** What `waterlogging_max_depth_cm` grouped by point answers over the whole stream. */
  peakDepthCm: number;
  peakAt: string;
  /** Worst alert level the point's readings reach (null below 15 cm). */
  severity: string | null;
}

export interface LotTruth {
  lotId: string;
  name: string;
  district: string;
  capacity: number;
  peakRatio: number;
  alerts: Array<{ fullSince: string; openedAt: string; resolvedAt: string | null }>;
}

export interface GasTruth {
  lineId: string;
  district: string;
  peakLelPct: number;
  peakAt: string;
  severity: string | null;
}

interface PointState {
  name: string;
  district: string;
  peak: number;
  peakAt: number;
  /** Readings whose minute may still be open at the end. */
  recent: Array<[number, number]>;
  maxAny: number;
}

interface LotState {
  name: string;
  district: string;
  capacity: number;
  pending: Array<[time: number, occupied: number, capacity: number]>;
  fullSince: number | null;
  active: boolean;
  peakRatio: number;
  alerts: Array<{ fullSince: number; openedAt: number; resolvedAt: number | null }>;
}

export class GaugeTruthBuilder {
  private readonly points = new Map<string, PointState>();
  private readonly lots = new Map<string, LotState>();
  private readonly gas = new Map<string, { district: string; peak: number; peakAt: number }>();
  readonly alarms = { raised: 0, cleared: 0 };

  /** Folds one accepted event; `watermark` is the service's watermark after it. */
  add(e: SimEvent, watermark: number): void {
    switch (e.type) {
      case 'huitian.waterlogging.reading': {
        const d = e.data;
        let p = this.points.get(d.pointId);
        if (p === undefined) {
          p = { name: d.name ?? d.pointId, district: d.district ?? 'unknown', peak: Number.NEGATIVE_INFINITY, peakAt: 0, recent: [], maxAny: 0 };
          this.points.set(d.pointId, p);
        }
        p.recent.push([e.time, d.depthCm]);
        if (d.depthCm > p.maxAny) p.maxAny = d.depthCm;
        // A reading before the minute the watermark is in belongs to a closed minute.
        if (p.recent.length > 8) this.foldPoint(p, Math.floor(watermark / MINUTE) * MINUTE);
        break;
      }
      case 'huitian.parking.occupancy': {
        const d = e.data;
        let lot = this.lots.get(d.lotId);
        if (lot === undefined) {
          lot = { name: d.name ?? d.lotId, district: d.district ?? 'unknown', capacity: d.capacity, pending: [], fullSince: null, active: false, peakRatio: 0, alerts: [] };
          this.lots.set(d.lotId, lot);
        }
        const pending = lot.pending;
        let i = pending.length;
        while (i > 0 && pending[i - 1]![0] > e.time) i--;
        pending.splice(i, 0, [e.time, d.occupied, d.capacity]);
        // Nothing older than the watermark can still be accepted: those readings are in order.
        if (pending.length > 8) this.stepLot(lot, watermark);
        break;
      }
      case 'huitian.utility.reading': {
        const d = e.data;
        if (d.metric !== 'gas_lel_pct') break;
        const g = this.gas.get(d.lineId);
        if (g === undefined) this.gas.set(d.lineId, { district: d.district ?? 'unknown', peak: d.value, peakAt: e.time });
        else if (d.value > g.peak || (d.value === g.peak && e.time < g.peakAt)) {
          g.peak = d.value;
          g.peakAt = e.time;
        }
        break;
      }
      case 'huitian.utility.alarm':
        if (e.data.state === 'raised') this.alarms.raised++;
        else this.alarms.cleared++;
        break;
      default:
        break;
    }
  }

  private foldPoint(p: PointState, before: number): void {
    let keep = 0;
    for (const r of p.recent) {
      if (r[0] < before) {
        if (r[1] > p.peak || (r[1] === p.peak && r[0] < p.peakAt)) {
          p.peak = r[1];
          p.peakAt = r[0];
        }
      } else {
        p.recent[keep++] = r;
      }
    }
    p.recent.length = keep;
  }

  /**
   * Applies the lot's pending readings older than `before`, in time order. An alert due
   * after `watermarkCap` has not opened: the watermark never reached its deadline.
   */
  private stepLot(lot: LotState, before: number, watermarkCap = Number.POSITIVE_INFINITY): void {
    let n = 0;
    while (n < lot.pending.length && lot.pending[n]![0] < before) {
      const [time, occupied, capacity] = lot.pending[n]!;
      this.openIfDue(lot, Math.min(time, watermarkCap));
      const ratio = occupied / capacity;
      if (ratio > lot.peakRatio) lot.peakRatio = ratio;
      if (lot.active) {
        if (ratio < PARKING_CLEAR_RATIO) {
          lot.active = false;
          lot.fullSince = null;
          lot.alerts[lot.alerts.length - 1]!.resolvedAt = time;
        }
      } else if (ratio >= PARKING_FULL_RATIO) {
        lot.fullSince ??= time;
      } else {
        lot.fullSince = null;
      }
      n++;
    }
    lot.pending.splice(0, n);
  }

  private openIfDue(lot: LotState, now: number): void {
    if (!lot.active && lot.fullSince !== null && lot.fullSince + PARKING_FOR_MS <= now) {
      lot.active = true;
      lot.alerts.push({ fullSince: lot.fullSince, openedAt: lot.fullSince + PARKING_FOR_MS, resolvedAt: null });
    }
  }

  finish(finalWatermark: number): { points: PointTruth[]; lots: LotTruth[]; gas: GasTruth[] } {
    const boundary = Math.floor(finalWatermark / MINUTE) * MINUTE;
    const points: PointTruth[] = [];
    for (const [pointId, p] of this.points) {
      this.foldPoint(p, boundary);
      if (p.peak === Number.NEGATIVE_INFINITY) continue; // no reading in a closed minute
      points.push({ pointId, name: p.name, district: p.district, peakDepthCm: p.peak, peakAt: formatBeijing(p.peakAt), severity: levelOf(DEPTH_LEVELS, p.maxAny) });
    }
    const lots: LotTruth[] = [];
    for (const [lotId, lot] of this.lots) {
      this.stepLot(lot, Number.POSITIVE_INFINITY, finalWatermark);
      this.openIfDue(lot, finalWatermark);
      lots.push({
        lotId,
        name: lot.name,
        district: lot.district,
        capacity: lot.capacity,
        peakRatio: Math.round(lot.peakRatio * 10_000) / 10_000,
        alerts: lot.alerts.map((a) => ({ fullSince: formatBeijing(a.fullSince), openedAt: formatBeijing(a.openedAt), resolvedAt: a.resolvedAt === null ? null : formatBeijing(a.resolvedAt) })),
      });
    }
    const gas: GasTruth[] = [...this.gas].map(([lineId, g]) => ({ lineId, district: g.district, peakLelPct: g.peak, peakAt: formatBeijing(g.peakAt), severity: levelOf(GAS_LEVELS, g.peak) }));
    return { points, lots, gas };
  }
}
