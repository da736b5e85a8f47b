/**
 * The event contract: CloudEvents 1.0 envelopes and the `data` of every event type.
 *
 * These zod schemas are the single source of truth. `schemas/*.json` are generated
 * from them (`npm run schemas`) for producers in other languages, and
 * tests/events/json-schemas.test.ts fails when the committed files drift.
 */
import { z } from 'zod';

/**
 * What an id or a group tag may be. Control characters (Unicode category Cc: U+0000–U+001F,
 * U+007F–U+009F) are refused in every id and tag value: they have no business in a name,
 * and a separator smuggled into a tag value (`WL-X\u0001district\u0002B`) once moved a
 * point's numbers into another district's group. The ids in `data` (which name entities
 * and become tags) are also at most 256 characters and do not end with a backslash:
 * InfluxDB refuses a whole write when a tag value is over 64 KiB or ends with `\`, which
 * would hold every KPI point behind it. Free text (`name`, `message`) may hold anything.
 */
export const CONTROL_CHARACTERS_RULE = 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)';
export const MAX_KEY_LENGTH = 256;
export const KEY_LENGTH_RULE = `must be at most ${MAX_KEY_LENGTH} characters`;
export const TRAILING_BACKSLASH_RULE = 'must not end with a backslash (InfluxDB cannot store a tag that does)';
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const NO_TRAILING_BACKSLASH = /(^|[^\\])$/;

/** Whether `s` holds a control character (Cc): the rule above, for the hot paths. */
export function hasControlCharacter(s: string): boolean {
  // A loop over char codes: ids are short, and this runs for several strings per event.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Whether `s` may be a key (an id in `data`) or, when empty, an absent tag: the rules above. */
export function isKeyText(s: string): boolean {
  return s.length <= MAX_KEY_LENGTH && (s.length === 0 || s.charCodeAt(s.length - 1) !== 0x5c) && !hasControlCharacter(s);
}

/** The envelope's `id` and `source`. */
const eventId = z.string().min(1, { error: 'must be a non-empty string' }).regex(NO_CONTROL_CHARACTERS, { error: CONTROL_CHARACTERS_RULE });
const keyText = (minLength: 0 | 1) =>
  z
    .string()
    .min(minLength, { error: 'must be a non-empty string' })
    .max(MAX_KEY_LENGTH, { error: KEY_LENGTH_RULE })
    .regex(NO_CONTROL_CHARACTERS, { error: CONTROL_CHARACTERS_RULE })
    .regex(NO_TRAILING_BACKSLASH, { error: TRAILING_BACKSLASH_RULE });
/** An id in `data`: it names an entity and may become a KPI group tag. */
const id = keyText(1);
const optionalText = z.string().optional();
/** An optional value that becomes a KPI group tag (district, station); empty reads as absent. */
const optionalTag = keyText(0).optional().describe('A KPI group tag; an empty string is read as absent.');
const longitude = z.number().min(-180).max(180).optional();
const latitude = z.number().min(-90).max(90).optional();

export const DISTRICT_EXAMPLES = ['回龙观街道', '龙泽园街道', '史各庄街道', '霍营街道', '天通苑北街道', '天通苑南街道', '东小口镇'];

export const UTILITY_NETWORKS = ['water', 'power', 'gas', 'heat'] as const;
export const UTILITY_METRICS = ['gas_lel_pct', 'pressure_mpa', 'flow_m3h', 'temperature_c', 'load_pct'] as const;
export const WARNING_LEVELS = ['blue', 'yellow', 'orange', 'red'] as const;
export const INCIDENT_CATEGORIES = ['fire', 'rescue', 'medical', 'hazmat', 'other'] as const;
export const CLOSE_REASONS = ['completed', 'cancelled', 'false_alarm'] as const;

export type UtilityNetwork = (typeof UTILITY_NETWORKS)[number];
export type UtilityMetric = (typeof UTILITY_METRICS)[number];
export type WarningLevel = (typeof WARNING_LEVELS)[number];
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

/**
 * Physically plausible range of each utility metric. The bounds are wide on purpose:
 * they exist to catch a wrong unit (kPa sent as MPa, a fraction sent as a percentage),
 * not to second-guess a sensor.
 */
export const UTILITY_METRIC_RANGES: Record<UtilityMetric, readonly [number, number]> = {
  gas_lel_pct: [0, 100], // % of the lower explosive limit; detectors saturate at 100
  pressure_mpa: [0, 100], // city networks run below 10 MPa; 100+ is a kPa value
  flow_m3h: [0, 1_000_000],
  temperature_c: [-60, 250], // district heating supply stays below 150 °C
  load_pct: [0, 300],
};

/** 10 m of water in a street is beyond any recorded flood here; larger values are millimetres. */
export const MAX_DEPTH_CM = 1000;

export const waterloggingReadingData = z.object({
  pointId: id,
  depthCm: z
    .number()
    .min(0, { error: 'must be ≥ 0' })
    .max(MAX_DEPTH_CM, { error: `must be ≤ ${MAX_DEPTH_CM} (centimetres; was a value in millimetres sent?)` })
    .describe('Water depth at the point, centimetres.'),
  district: optionalTag,
  name: optionalText,
  lon: longitude,
  lat: latitude,
});

export const utilityReadingData = z
  .object({
    lineId: id,
    network: z.enum(UTILITY_NETWORKS),
    metric: z.enum(UTILITY_METRICS),
    value: z.number().describe('The reading, in the unit its metric names (%LEL, MPa, m³/h, °C, % of rated load).'),
    district: optionalTag,
  })
  .superRefine((d, ctx) => {
    const [lo, hi] = UTILITY_METRIC_RANGES[d.metric];
    if (d.value < lo || d.value > hi) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be within [${lo}, ${hi}] for metric ${d.metric}` });
    }
  });

export const utilityAlarmData = z.object({
  lineId: id,
  network: z.enum(UTILITY_NETWORKS),
  code: id.describe("The source system's alarm code; (lineId, code) identifies one alarm."),
  state: z.enum(['raised', 'cleared']),
  level: z.enum(WARNING_LEVELS).optional().describe('Warning colour; yellow when absent.'),
  message: optionalText,
  district: optionalTag,
});

export const parkingOccupancyData = z.object({
  lotId: id,
  capacity: z.number().int({ error: 'must be an integer' }).gt(0, { error: 'must be > 0' }).describe('Parking spaces in the lot.'),
  // Occupancy may exceed capacity: cars parked on aisles and verges are real and counted.
  occupied: z.number().int({ error: 'must be an integer' }).min(0, { error: 'must be ≥ 0' }).describe('Vehicles parked; may exceed capacity.'),
  district: optionalTag,
  name: optionalText,
});

export const dispatchReceivedData = z.object({
  incidentId: id,
  category: z.enum(INCIDENT_CATEGORIES),
  district: id,
  station: optionalTag,
  lon: longitude,
  lat: latitude,
});

export const dispatchDispatchedData = z.object({
  incidentId: id,
  unitId: id,
  station: optionalTag,
});

export const dispatchArrivedData = z.object({
  incidentId: id,
  unitId: id,
});

export const dispatchClosedData = z.object({
  incidentId: id,
  reason: z.enum(CLOSE_REASONS),
});

/** Every event type of the contract and the schema of its `data`. */
export const DATA_SCHEMAS = {
  'huitian.waterlogging.reading': waterloggingReadingData,
  'huitian.utility.reading': utilityReadingData,
  'huitian.utility.alarm': utilityAlarmData,
  'huitian.parking.occupancy': parkingOccupancyData,
  'huitian.dispatch.received': dispatchReceivedData,
  'huitian.dispatch.dispatched': dispatchDispatchedData,
  'huitian.dispatch.arrived': dispatchArrivedData,
  'huitian.dispatch.closed': dispatchClosedData,
} as const;

export type EventType = keyof typeof DATA_SCHEMAS;
export const EVENT_TYPES = Object.keys(DATA_SCHEMAS) as EventType[];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(type: string): type is EventType {
  // A Set rather than hasOwnProperty: see CHECKS in data-fast-path.ts.
  return EVENT_TYPE_SET.has(type);
}

/** The envelope attributes this service requires (CloudEvents makes `time` optional; we do not). */
export const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

export function envelopeSchema<T extends z.ZodType>(type: z.ZodType<string>, data: T) {
  return z.looseObject({
    specversion: z.literal('1.0'),
    id: eventId,
    source: eventId,
    type,
    // Same words as the calendar check in decode.ts: one reason for every malformed time.
    time: z.string().regex(new RegExp(RFC3339_PATTERN), { error: 'must be a valid RFC 3339 timestamp with offset' }),
    subject: z.string().optional(),
    datacontenttype: z.string().optional(),
    data,
  });
}

export type DataOf<T extends EventType> = z.output<(typeof DATA_SCHEMAS)[T]>;

/** A decoded, validated event. `time` is epoch milliseconds of the event time. */
export type HuitianEvent = {
  [T in EventType]: {
    id: string;
    source: string;
    type: T;
    time: number;
    subject?: string;
    data: DataOf<T>;
  };
}[EventType];

export type EventOf<T extends EventType> = Extract<HuitianEvent, { type: T }>;
