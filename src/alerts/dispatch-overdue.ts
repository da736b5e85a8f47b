/**
 * Response overdue (响应超时): a fire or rescue incident with no unit on scene when the
 * response limit (300 s) after its clock start has passed. Raised by the incident
 * tracker of the fire-response KPI when it decides "missed" with no arrival at all;
 * resolved as soon as a unit arrives or the incident is closed.
 */
import { formatLocalDateTime, zoneLabel } from '../time/time-zone.js';
import type { IncidentCategory } from '../events/schemas.js';
import type { AlertBook } from './alert-book.js';
import type { FireClockStart } from '../engine/step-context.js';

export const DISPATCH_OVERDUE_RULE = 'dispatch_overdue';

const CATEGORY_ZH: Record<IncidentCategory, string> = {
  fire: '火灾',
  rescue: '抢险救援',
  medical: '医疗',
  hazmat: '危化品',
  other: '其他',
};

export interface OverdueIncident {
  incidentId: string;
  category: IncidentCategory;
  district: string;
  station: string;
  clockStart: number;
  clockStartKind: FireClockStart | 'received-no-dispatch';
  limitSeconds: number;
}

/** `zone`: the texts give the clock start in local time (HUITIAN_TIMEZONE). */
export function raiseDispatchOverdue(alerts: AlertBook, i: OverdueIncident, zone: string): void {
  const since = i.clockStartKind === 'dispatched' ? '出动指令' : '接警';
  const sinceEn = i.clockStartKind === 'dispatched' ? 'the dispatch order' : 'the call';
  const local = formatLocalDateTime(i.clockStart, zone);
  alerts.raise({
    rule: DISPATCH_OVERDUE_RULE,
    category: 'dispatch',
    entityId: i.incidentId,
    severity: 'orange',
    district: i.district,
    value: null,
    threshold: i.limitSeconds,
    at: i.clockStart + i.limitSeconds * 1000,
    by: 'watermark',
    title: `响应超时：${CATEGORY_ZH[i.category]}警情 ${i.incidentId}（${i.district}）`,
    titleEn: `Response overdue: ${i.category} incident ${i.incidentId} (${i.district})`,
    message: `警情 ${i.incidentId} 自${since}（${zoneLabel(zone, i.clockStart, 'zh')} ${local}）起 ${i.limitSeconds} 秒内无救援力量到场，责任站：${i.station}。`,
    messageEn: `No unit reached incident ${i.incidentId} within ${i.limitSeconds} s of ${sinceEn} (${local} ${zoneLabel(zone, i.clockStart, 'en')}); station: ${i.station}.`,
  });
}

export function clearDispatchOverdue(alerts: AlertBook, incidentId: string, at: number, by: string, note: string): void {
  alerts.clear(DISPATCH_OVERDUE_RULE, incidentId, at, by, null, note);
}
