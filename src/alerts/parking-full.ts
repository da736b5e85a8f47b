/**
 * "Lot full": occupancy ≥ 95 % held for 5 minutes opens a blue alert; it resolves when
 * occupancy falls below 90 %. The 5 minutes are event time: the alert opens when the
 * watermark reaches the moment the lot had been full for 5 minutes.
 */
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import { isAfter } from '../time/event-order.js';
import type { Timer } from '../time/timer-queue.js';
import { UNKNOWN } from '../kpis/partials.js';

export const PARKING_FULL_RULE = 'parking_full';
const TIMER = 'parking-full';

interface LotState {
  newest: number;
  /** Identity of the newest reading: of two at one instant, the engine's event order picks the newest. */
  newestId?: string;
  newestSource?: string;
  /** Event time since which the lot has been at or above the full ratio, if it is. */
  fullSince: number | null;
  ratio: number;
  district: string;
  name: string | undefined;
}

export class ParkingFullRule {
  private readonly lots = new Map<string, LotState>();

  onOccupancy(ctx: StepContext, e: EventOf<'huitian.parking.occupancy'>): void {
    const d = e.data;
    const { fullRatio, forSeconds, clearBelowRatio } = ctx.rules.parking;
    let lot = this.lots.get(d.lotId);
    if (lot !== undefined && !isAfter(e.time, e.id, e.source, { time: lot.newest, id: lot.newestId ?? '', source: lot.newestSource ?? '' })) return;
    const ratio = d.occupied / d.capacity;
    if (lot === undefined) {
      lot = { newest: e.time, fullSince: null, ratio, district: d.district ?? UNKNOWN, name: d.name };
      this.lots.set(d.lotId, lot);
    }
    const previousRatio = lot.ratio;
    lot.newest = e.time;
    lot.newestId = e.id;
    lot.newestSource = e.source;
    lot.ratio = ratio;
    if (d.district !== undefined) lot.district = d.district;
    if (d.name !== undefined) lot.name = d.name;
    const active = ctx.alerts.active(PARKING_FULL_RULE, d.lotId);
    if (active !== undefined) {
      if (ratio < clearBelowRatio) {
        lot.fullSince = null;
        ctx.alerts.clear(PARKING_FULL_RULE, d.lotId, e.time, `event:${e.id}`, ratio);
      }
      return;
    }
    if (ratio >= fullRatio) {
      if (lot.fullSince === null) {
        lot.fullSince = e.time;
        // Fires when the watermark reaches fullSince + forSeconds.
        ctx.timers.schedule(e.time + forSeconds * 1000 - 1, TIMER, d.lotId);
      }
      return;
    }
    // A drop cancels the alert only if it comes before the lot was full for the whole
    // duration. This reading may be ahead of the watermark, so the timer may not have
    // fired yet: the lot was still full at fullSince + forSeconds, and the alert is due.
    if (lot.fullSince !== null && e.time - lot.fullSince >= forSeconds * 1000) {
      this.raiseFull(ctx, d.lotId, lot, lot.fullSince, previousRatio, `event:${e.id}`);
      if (ratio < clearBelowRatio) ctx.alerts.clear(PARKING_FULL_RULE, d.lotId, e.time, `event:${e.id}`, ratio);
    }
    lot.fullSince = null;
  }

  onTimer(ctx: StepContext, timer: Timer): boolean {
    if (timer.kind !== TIMER) return false;
    const lot = this.lots.get(timer.key);
    const forMs = ctx.rules.parking.forSeconds * 1000;
    if (lot === undefined || lot.fullSince === null || lot.fullSince + forMs - 1 !== timer.due) return true;
    this.raiseFull(ctx, timer.key, lot, lot.fullSince, lot.ratio, 'watermark');
    return true;
  }

  private raiseFull(ctx: StepContext, lotId: string, lot: LotState, fullSince: number, ratio: number, by: string): void {
    const { fullRatio, forSeconds } = ctx.rules.parking;
    const place = lot.name === undefined ? lotId : `${lot.name}（${lotId}）`;
    const pct = (ratio * 100).toFixed(1);
    ctx.alerts.raise({
      rule: PARKING_FULL_RULE,
      category: 'parking',
      entityId: lotId,
      severity: 'blue',
      district: lot.district,
      value: ratio,
      threshold: fullRatio,
      at: fullSince + forSeconds * 1000,
      by,
      title: `停车场已满：${place} 占用率 ${pct}%`,
      titleEn: `Lot full: ${lotId} at ${pct}% occupancy`,
      message: `${place} 占用率持续 ${forSeconds / 60} 分钟不低于 ${fullRatio * 100}%，请发布诱导信息、引导车辆至周边车场。`,
      messageEn: `${lotId} has been at or above ${fullRatio * 100}% for ${forSeconds / 60} minutes; publish guidance to nearby lots.`,
    });
  }

  forgetOlderThan(horizon: number): void {
    for (const [lotId, lot] of this.lots) if (lot.newest < horizon) this.lots.delete(lotId);
  }

  snapshot(): Array<[string, LotState]> {
    return [...this.lots.entries()].map(([k, v]) => [k, { ...v }]);
  }

  restore(entries: Array<[string, LotState]>): void {
    this.lots.clear();
    for (const [k, v] of entries) this.lots.set(k, { ...v });
  }
}
