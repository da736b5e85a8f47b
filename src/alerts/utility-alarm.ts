/**
 * Alarms forwarded by the utility operators' own systems: `raised` opens (level from the
 * event, default yellow) or escalates; `cleared` resolves the same (lineId, code) alert.
 * Each alarm follows its newest event by event time.
 */
import { NewestTimes, type NewestEntry } from './newest-times.js';
import { SEVERITY_ZH, type Severity } from './alert.js';
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import { UNKNOWN } from '../kpis/partials.js';

export const UTILITY_ALARM_RULE = 'utility_alarm';

const NETWORK_ZH = { water: '供水', power: '电力', gas: '燃气', heat: '供热' } as const;

/**
 * The alarm's entity id, `lineId/code`. A `/` (and the `%` that escapes it) in the line id
 * is percent-escaped, so that line `A/B` with code `C` and line `A` with code `B/C` stay two
 * alarms: one clearing the other would take an active alarm out of the count. Ids without
 * either character read as they always did.
 */
export function utilityAlarmEntity(lineId: string, code: string): string {
  const line = lineId.includes('/') || lineId.includes('%') ? lineId.replace(/%/g, '%25').replace(/\//g, '%2F') : lineId;
  return `${line}/${code}`;
}

export class UtilityAlarmRule {
  private readonly newest = new NewestTimes();

  onAlarm(ctx: StepContext, e: EventOf<'huitian.utility.alarm'>): void {
    const d = e.data;
    const entityId = utilityAlarmEntity(d.lineId, d.code);
    if (!this.newest.advance(entityId, e.time, e.id, e.source)) return;
    if (d.state === 'cleared') {
      // The clearing time stays remembered: forgetting it let a straggling `raised`,
      // older than the clear, open the alarm again.
      ctx.alerts.clear(UTILITY_ALARM_RULE, entityId, e.time, `event:${e.id}`, null, d.message);
      return;
    }
    const severity: Severity = d.level ?? 'yellow';
    const network = NETWORK_ZH[d.network];
    const detail = d.message === undefined ? '' : `：${d.message}`;
    ctx.alerts.raise({
      rule: UTILITY_ALARM_RULE,
      category: 'utility',
      entityId,
      severity,
      district: d.district ?? UNKNOWN,
      value: null,
      threshold: null,
      at: e.time,
      by: `event:${e.id}`,
      title: `${network}管线${SEVERITY_ZH[severity]}报警：${d.lineId} 报警码 ${d.code}`,
      titleEn: `${d.network} line ${severity} alarm: ${d.lineId} code ${d.code}`,
      message: `${network}管线 ${d.lineId} 上报报警 ${d.code}${detail}`,
      messageEn: `The ${d.network} network reported alarm ${d.code} on line ${d.lineId}${d.message === undefined ? '' : `: ${d.message}`}`,
    });
  }

  /** Drops alarms not heard from since `horizon` (an active alert stays until cleared). */
  forgetOlderThan(horizon: number): void {
    this.newest.forgetOlderThan(horizon);
  }

  snapshot(): NewestEntry[] {
    return this.newest.snapshot();
  }

  restore(entries: NewestEntry[]): void {
    this.newest.restore(entries);
  }
}
