/** CloudEvents of every contract type, at event times counted in seconds from T0. */
import { decodeEvent } from '../../src/events/decode.js';
import type { EventType, HuitianEvent } from '../../src/events/schemas.js';
import { formatInZone } from '../../src/time/time-zone.js';

/** 2026-07-21 08:00 Beijing time: the morning of the scenarios. */
export const T0 = Date.parse('2026-07-21T08:00:00+08:00');

export const HLG = '回龙观街道';
export const TTYN = '天通苑北街道';
export const TTYS = '天通苑南街道';
export const HY = '霍营街道';

/** RFC 3339 in Beijing time (+08:00, as the API writes it by default) of T0 + seconds. */
export function at(seconds: number): string {
  return formatInZone(T0 + seconds * 1000, 'Asia/Shanghai');
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

// --- Decoded events for the core's unit tests -------------------------------------------


let nextId = 0;

export interface EvOptions {
  id?: string;
  source?: string;
  subject?: string;
}

/**
 * A decoded event of `type` at T0 + `seconds`, built through the real decoder, so a test
 * can never feed the engine something the contract would refuse. Without an `id` each
 * call gets a fresh one.
 */
export function ev<T extends EventType>(type: T, seconds: number, data: Record<string, unknown>, options: EvOptions = {}): Extract<HuitianEvent, { type: T }> {
  const raw: Record<string, unknown> = {
    specversion: '1.0',
    id: options.id ?? `ev-${nextId++}`,
    source: options.source ?? '/test',
    type,
    time: at(seconds),
    data,
  };
  if (options.subject !== undefined) raw.subject = options.subject;
  const decoded = decodeEvent(raw);
  if (!decoded.ok) throw new Error(`test event refused by the decoder: ${decoded.reason}`);
  return decoded.event as Extract<HuitianEvent, { type: T }>;
}

/** Epoch ms of T0 + seconds. */
export const ms = (seconds: number): number => T0 + seconds * 1000;

/** Shorthands for the core tests, each a decoded event. */
export const core = {
  depth: (seconds: number, pointId: string, depthCm: number, extra: Record<string, unknown> = {}, o?: EvOptions) =>
    ev('huitian.waterlogging.reading', seconds, { pointId, depthCm, ...extra }, o),
  gas: (seconds: number, lineId: string, value: number, extra: Record<string, unknown> = {}, o?: EvOptions) =>
    ev('huitian.utility.reading', seconds, { lineId, network: 'gas', metric: 'gas_lel_pct', value, ...extra }, o),
  alarm: (seconds: number, lineId: string, code: string, state: 'raised' | 'cleared', extra: Record<string, unknown> = {}, o?: EvOptions) =>
    ev('huitian.utility.alarm', seconds, { lineId, network: 'water', code, state, ...extra }, o),
  lot: (seconds: number, lotId: string, occupied: number, capacity: number, extra: Record<string, unknown> = {}, o?: EvOptions) =>
    ev('huitian.parking.occupancy', seconds, { lotId, occupied, capacity, ...extra }, o),
  received: (seconds: number, incidentId: string, category: string, district: string, extra: Record<string, unknown> = {}, o?: EvOptions) =>
    ev('huitian.dispatch.received', seconds, { incidentId, category, district, ...extra }, o),
  dispatched: (seconds: number, incidentId: string, unitId: string, station?: string, o?: EvOptions) =>
    ev('huitian.dispatch.dispatched', seconds, station === undefined ? { incidentId, unitId } : { incidentId, unitId, station }, o),
  arrived: (seconds: number, incidentId: string, unitId: string, o?: EvOptions) => ev('huitian.dispatch.arrived', seconds, { incidentId, unitId }, o),
  closed: (seconds: number, incidentId: string, reason: 'completed' | 'cancelled' | 'false_alarm', o?: EvOptions) =>
    ev('huitian.dispatch.closed', seconds, { incidentId, reason }, o),
};
