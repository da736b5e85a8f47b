/** CloudEvents of every contract type, at event times counted in seconds from T0. */

/** 2026-07-21 08:00 Beijing time: the morning of the scenarios. */
export const T0 = Date.parse('2026-07-21T08:00:00+08:00');

export const HLG = '回龙观街道';
export const TTYN = '天通苑北街道';
export const TTYS = '天通苑南街道';
export const HY = '霍营街道';

/** RFC 3339 (UTC) of T0 + seconds. */
export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
  [attribute: string]: unknown;
}

export function cloudEvent(type: string, id: string, seconds: number, data: Record<string, unknown>, source = '/test'): CloudEvent {
  return { specversion: '1.0', id, source, type, time: at(seconds), data };
}

export const waterlogging = (id: string, seconds: number, pointId: string, depthCm: number, district?: string): CloudEvent =>
  cloudEvent('huitian.waterlogging.reading', id, seconds, district === undefined ? { pointId, depthCm } : { pointId, depthCm, district }, '/sensors/waterlogging');

export const gasReading = (id: string, seconds: number, lineId: string, value: number, district?: string): CloudEvent =>
  cloudEvent('huitian.utility.reading', id, seconds, { lineId, network: 'gas', metric: 'gas_lel_pct', value, ...(district === undefined ? {} : { district }) }, '/sensors/utility');

export const utilityAlarm = (
  id: string,
  seconds: number,
  lineId: string,
  code: string,
  state: 'raised' | 'cleared',
  level?: 'blue' | 'yellow' | 'orange' | 'red',
  district?: string,
): CloudEvent =>
  cloudEvent(
    'huitian.utility.alarm',
    id,
    seconds,
    { lineId, network: 'water', code, state, ...(level === undefined ? {} : { level }), ...(district === undefined ? {} : { district }) },
    '/utility/alarms',
  );

export const parking = (id: string, seconds: number, lotId: string, occupied: number, capacity: number, district?: string): CloudEvent =>
  cloudEvent('huitian.parking.occupancy', id, seconds, { lotId, occupied, capacity, ...(district === undefined ? {} : { district }) }, '/parking');

export const received = (id: string, seconds: number, incidentId: string, category: string, district: string, station?: string): CloudEvent =>
  cloudEvent('huitian.dispatch.received', id, seconds, { incidentId, category, district, ...(station === undefined ? {} : { station }) }, '/dispatch');

export const dispatched = (id: string, seconds: number, incidentId: string, unitId: string, station?: string): CloudEvent =>
  cloudEvent('huitian.dispatch.dispatched', id, seconds, { incidentId, unitId, ...(station === undefined ? {} : { station }) }, '/dispatch');

export const arrived = (id: string, seconds: number, incidentId: string, unitId: string): CloudEvent =>
  cloudEvent('huitian.dispatch.arrived', id, seconds, { incidentId, unitId }, '/dispatch');

export const closed = (id: string, seconds: number, incidentId: string, reason: 'completed' | 'cancelled' | 'false_alarm'): CloudEvent =>
  cloudEvent('huitian.dispatch.closed', id, seconds, { incidentId, reason }, '/dispatch');

export function ndjson(events: readonly unknown[]): string {
  return events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n';
}
