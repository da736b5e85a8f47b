/**
 * Sensor silence (live mode only): a waterlogging point with no reading for 10 minutes
 * raises a blue alert; its next reading resolves it. In replay mode a recorded stream's
 * sampling gaps are history, not a failing sensor, so the rule stays off.
 */
import type { StepContext } from '../engine/step-context.js';
import { isAfter } from '../time/event-order.js';
import type { Timer } from '../time/timer-queue.js';

export const SENSOR_SILENCE_RULE = 'sensor_silence';
const TIMER = 'sensor-silence';

interface PointState {
  newest: number;
  /** Identity of the newest reading: of two at one instant, the engine's event order picks the newest. */
  newestId?: string;
  newestSource?: string;
  district: string;
  name: string | undefined;
}

export class SensorSilenceRule {
  private readonly points = new Map<string, PointState>();

  onReading(ctx: StepContext, pointId: string, e: { time: number; id: string; source: string }, district: string, name: string | undefined): void {
    if (ctx.mode !== 'live') return;
    const time = e.time;
    const point = this.points.get(pointId);
    if (point !== undefined && !isAfter(time, e.id, e.source, { time: point.newest, id: point.newestId ?? '', source: point.newestSource ?? '' })) return;
    this.points.set(pointId, { newest: time, newestId: e.id, newestSource: e.source, district, name: name ?? point?.name });
    ctx.alerts.clear(SENSOR_SILENCE_RULE, pointId, time, `event:${e.id}`);
    ctx.timers.schedule(time + ctx.rules.sensorSilence.afterSeconds * 1000 - 1, TIMER, pointId);
  }

  onTimer(ctx: StepContext, timer: Timer): boolean {
    if (timer.kind !== TIMER) return false;
    const point = this.points.get(timer.key);
    const afterMs = ctx.rules.sensorSilence.afterSeconds * 1000;
    if (point === undefined || point.newest + afterMs - 1 !== timer.due) return true;
    const minutes = ctx.rules.sensorSilence.afterSeconds / 60;
    const place = point.name === undefined ? timer.key : `${point.name}（${timer.key}）`;
    ctx.alerts.raise({
      rule: SENSOR_SILENCE_RULE,
      category: 'sensor',
      entityId: timer.key,
      severity: 'blue',
      district: point.district,
      value: null,
      threshold: ctx.rules.sensorSilence.afterSeconds,
      at: point.newest + afterMs,
      by: 'watermark',
      title: `传感器离线：${place} ${minutes} 分钟无数据`,
      titleEn: `Sensor silent: ${timer.key} sent nothing for ${minutes} minutes`,
      message: `积水监测点 ${place} 已 ${minutes} 分钟未上报读数，请检查设备供电与通信。`,
      messageEn: `Waterlogging point ${timer.key} has not reported for ${minutes} minutes; check its power and link.`,
    });
    // Silence is noticed once; the next reading resolves it and re-arms the timer.
    this.points.delete(timer.key);
    return true;
  }

  snapshot(): Array<[string, PointState]> {
    return [...this.points.entries()].map(([k, v]) => [k, { ...v }]);
  }

  restore(entries: Array<[string, PointState]>): void {
    this.points.clear();
    for (const [k, v] of entries) this.points.set(k, { ...v });
  }
}
