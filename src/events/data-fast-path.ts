/**
 * The hot-path check of each event type's `data`: what `DATA_SCHEMAS[type].parse` returns
 * for the inputs that are plainly valid, built without zod. zod's object parsing cost
 * about 60 % of decoding a line at ingest rates; this check is a few property reads.
 *
 * It is only ever an accelerator. It answers `undefined` for anything it is not sure of —
 * any invalid value, an object that is not a plain one, a key present but undefined —
 * and the caller then asks zod, which decides and writes the reason. When it does answer,
 * the result is what zod gives: the known keys in the schema's order, unknown keys
 * dropped, absent optional keys left out. A property test holds the two together
 * (tests/events/data-fast-path.test.ts); the zod schemas stay the contract.
 */
import {
  CLOSE_REASONS,
  isKeyText,
  INCIDENT_CATEGORIES,
  MAX_DEPTH_CM,
  UTILITY_METRIC_RANGES,
  UTILITY_METRICS,
  UTILITY_NETWORKS,
  WARNING_LEVELS,
  type EventType,
} from './schemas.js';

type Data = Record<string, unknown>;

const NETWORKS: ReadonlySet<unknown> = new Set(UTILITY_NETWORKS);
const METRICS: ReadonlySet<unknown> = new Set(UTILITY_METRICS);
const LEVELS: ReadonlySet<unknown> = new Set(WARNING_LEVELS);
const CATEGORIES: ReadonlySet<unknown> = new Set(INCIDENT_CATEGORIES);
const REASONS: ReadonlySet<unknown> = new Set(CLOSE_REASONS);
const ALARM_STATES: ReadonlySet<unknown> = new Set(['raised', 'cleared']);

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && isKeyText(v);
}

function isNumberIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && v >= lo && v <= hi;
}

/**
 * Copies the optional keys of `data` that are absent or valid into `out`, in order.
 * False when one is present but invalid, or present with the value `undefined` (zod keeps
 * such a key; rather than copy that corner, it is left to zod).
 */
function optionalText(data: Data, out: Data, key: string): boolean {
  const v = data[key];
  if (v === undefined) return !(key in data);
  if (typeof v !== 'string') return false;
  out[key] = v;
  return true;
}

/** `optionalText` for a value that becomes a group tag (schemas.ts: keyText). */
function optionalTag(data: Data, out: Data, key: string): boolean {
  const v = data[key];
  if (v === undefined) return !(key in data);
  if (typeof v !== 'string' || !isKeyText(v)) return false;
  out[key] = v;
  return true;
}

function optionalNumberIn(data: Data, out: Data, key: string, lo: number, hi: number): boolean {
  const v = data[key];
  if (v === undefined) return !(key in data);
  if (!isNumberIn(v, lo, hi)) return false;
  out[key] = v;
  return true;
}

function optionalMember(data: Data, out: Data, key: string, members: ReadonlySet<unknown>): boolean {
  const v = data[key];
  if (v === undefined) return !(key in data);
  if (!members.has(v)) return false;
  out[key] = v;
  return true;
}

function waterlogging(d: Data): Data | undefined {
  const { pointId, depthCm } = d;
  if (!isId(pointId) || !isNumberIn(depthCm, 0, MAX_DEPTH_CM)) return undefined;
  const out: Data = { pointId, depthCm };
  const ok =
    optionalTag(d, out, 'district') &&
    optionalText(d, out, 'name') &&
    optionalNumberIn(d, out, 'lon', -180, 180) &&
    optionalNumberIn(d, out, 'lat', -90, 90);
  return ok ? out : undefined;
}

function utilityReading(d: Data): Data | undefined {
  const { lineId, network, metric, value } = d;
  if (!isId(lineId) || !NETWORKS.has(network) || !METRICS.has(metric) || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const [lo, hi] = UTILITY_METRIC_RANGES[metric as keyof typeof UTILITY_METRIC_RANGES];
  if (value < lo || value > hi) return undefined;
  const out: Data = { lineId, network, metric, value };
  return optionalTag(d, out, 'district') ? out : undefined;
}

function utilityAlarm(d: Data): Data | undefined {
  const { lineId, network, code, state } = d;
  if (!isId(lineId) || !NETWORKS.has(network) || !isId(code) || !ALARM_STATES.has(state)) return undefined;
  const out: Data = { lineId, network, code, state };
  const ok = optionalMember(d, out, 'level', LEVELS) && optionalText(d, out, 'message') && optionalTag(d, out, 'district');
  return ok ? out : undefined;
}

function parkingOccupancy(d: Data): Data | undefined {
  const { lotId, capacity, occupied } = d;
  // zod's int() is a safe integer.
  if (!isId(lotId) || !Number.isSafeInteger(capacity) || !Number.isSafeInteger(occupied)) return undefined;
  if ((capacity as number) <= 0 || (occupied as number) < 0) return undefined;
  const out: Data = { lotId, capacity, occupied };
  return optionalTag(d, out, 'district') && optionalText(d, out, 'name') ? out : undefined;
}

function dispatchReceived(d: Data): Data | undefined {
  const { incidentId, category, district } = d;
  if (!isId(incidentId) || !CATEGORIES.has(category) || !isId(district)) return undefined;
  const out: Data = { incidentId, category, district };
  const ok = optionalTag(d, out, 'station') && optionalNumberIn(d, out, 'lon', -180, 180) && optionalNumberIn(d, out, 'lat', -90, 90);
  return ok ? out : undefined;
}

function dispatchDispatched(d: Data): Data | undefined {
  const { incidentId, unitId } = d;
  if (!isId(incidentId) || !isId(unitId)) return undefined;
  const out: Data = { incidentId, unitId };
  return optionalTag(d, out, 'station') ? out : undefined;
}

function dispatchArrived(d: Data): Data | undefined {
  const { incidentId, unitId } = d;
  return isId(incidentId) && isId(unitId) ? { incidentId, unitId } : undefined;
}

function dispatchClosed(d: Data): Data | undefined {
  const { incidentId, reason } = d;
  return isId(incidentId) && REASONS.has(reason) ? { incidentId, reason } : undefined;
}

// A Map, not an object: the type string comes fresh from JSON.parse, and a property lookup
// by such a string first looks it up in V8's string table; a Map hashes it and is done.
const CHECKS: ReadonlyMap<string, (d: Data) => Data | undefined> = new Map<EventType, (d: Data) => Data | undefined>([
  ['huitian.waterlogging.reading', waterlogging],
  ['huitian.utility.reading', utilityReading],
  ['huitian.utility.alarm', utilityAlarm],
  ['huitian.parking.occupancy', parkingOccupancy],
  ['huitian.dispatch.received', dispatchReceived],
  ['huitian.dispatch.dispatched', dispatchDispatched],
  ['huitian.dispatch.arrived', dispatchArrived],
  ['huitian.dispatch.closed', dispatchClosed],
]);

/** zod's output for `data` of `type` when it is plainly valid; `undefined`: ask zod. */
export function fastData(type: EventType, data: unknown): Data | undefined {
  // Only plain objects (what JSON.parse makes): zod also reads inherited properties,
  // which a fast path should not have to think about.
  if (data === null || typeof data !== 'object' || Object.getPrototypeOf(data) !== Object.prototype) return undefined;
  return CHECKS.get(type)!(data as Data);
}
