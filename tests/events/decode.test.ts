/**
 * The event contract (issue 2): every type decodes when valid, and every kind of invalid
 * input is refused with a reason that names the field and the rule broken.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyTypeEnvelope, decodeEvent, decodeJson, envelopeLooksValid } from '../../src/events/decode.js';
import { EVENT_TYPES } from '../../src/events/schemas.js';
import { runs } from '../helpers/property-runs.js';

const TIME = '2026-07-21T08:15:00+08:00';
const TIME_MS = Date.UTC(2026, 6, 21, 0, 15, 0);

function envelope(type: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id: 'e-1', source: '/test', type, time: TIME, data, ...extra };
}

function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

/** A minimal valid `data` of each type, and one with every optional field. */
const VALID: Record<string, { minimal: Record<string, unknown>; full: Record<string, unknown> }> = {
  'huitian.waterlogging.reading': {
    minimal: { pointId: 'HLG-001', depthCm: 0 },
    full: { pointId: 'HLG-001', depthCm: 18.5, district: '回龙观街道', name: '回龙观东大街桥下', lon: 116.33, lat: 40.07 },
  },
  'huitian.utility.reading': {
    minimal: { lineId: 'G-7', network: 'gas', metric: 'gas_lel_pct', value: 12 },
    full: { lineId: 'G-7', network: 'gas', metric: 'gas_lel_pct', value: 12, district: '天通苑北街道' },
  },
  'huitian.utility.alarm': {
    minimal: { lineId: 'W-1', network: 'water', code: 'P-LOW', state: 'raised' },
    full: { lineId: 'W-1', network: 'water', code: 'P-LOW', state: 'cleared', level: 'orange', message: '压力低', district: '霍营街道' },
  },
  'huitian.parking.occupancy': {
    minimal: { lotId: 'LOT-1', capacity: 100, occupied: 0 },
    // Occupancy above capacity is real (cars on aisles) and accepted.
    full: { lotId: 'LOT-1', capacity: 100, occupied: 104, district: '回龙观街道', name: '回龙观地铁站 P+R' },
  },
  'huitian.dispatch.received': {
    minimal: { incidentId: 'F-1', category: 'fire', district: '回龙观街道' },
    full: { incidentId: 'F-1', category: 'rescue', district: '回龙观街道', station: '回龙观消防站', lon: 116.3, lat: 40.1 },
  },
  'huitian.dispatch.dispatched': {
    minimal: { incidentId: 'F-1', unitId: 'U-1' },
    full: { incidentId: 'F-1', unitId: 'U-1', station: '回龙观消防站' },
  },
  'huitian.dispatch.arrived': {
    minimal: { incidentId: 'F-1', unitId: 'U-1' },
    full: { incidentId: 'F-1', unitId: 'U-1' },
  },
  'huitian.dispatch.closed': {
    minimal: { incidentId: 'F-1', reason: 'completed' },
    full: { incidentId: 'F-1', reason: 'false_alarm' },
  },
};

describe('decodeEvent: valid events of every type', () => {
  it('covers every type of the contract', () => {
    expect(Object.keys(VALID).sort()).toEqual([...EVENT_TYPES].sort());
  });

  for (const type of EVENT_TYPES) {
    for (const variant of ['minimal', 'full'] as const) {
      it(`${type} (${variant})`, () => {
        const data = VALID[type]![variant];
        const decoded = decodeEvent(envelope(type, data));
        expect(decoded).toEqual({ ok: true, event: { id: 'e-1', source: '/test', type, time: TIME_MS, data } });
      });
    }
  }

  it('keeps `subject`, drops unknown data fields and envelope extensions', () => {
    const decoded = decodeEvent(
      envelope('huitian.dispatch.arrived', { incidentId: 'F-1', unitId: 'U-1', crew: 6 }, { subject: 'F-1', traceparent: '00-ab', datacontenttype: 'application/json' }),
    );
    expect(decoded).toEqual({
      ok: true,
      event: { id: 'e-1', source: '/test', type: 'huitian.dispatch.arrived', time: TIME_MS, subject: 'F-1', data: { incidentId: 'F-1', unitId: 'U-1' } },
    });
  });

  it('accepts every utility metric at both ends of its range', () => {
    const ends: Array<[string, number]> = [
      ['gas_lel_pct', 0], ['gas_lel_pct', 100],
      ['pressure_mpa', 0], ['pressure_mpa', 100],
      ['flow_m3h', 0], ['flow_m3h', 1_000_000],
      ['temperature_c', -60], ['temperature_c', 250],
      ['load_pct', 0], ['load_pct', 300],
    ];
    for (const [metric, value] of ends) {
      const decoded = decodeEvent(envelope('huitian.utility.reading', { lineId: 'L', network: 'heat', metric, value }));
      expect(decoded.ok, `${metric} ${value}`).toBe(true);
    }
  });
});

const NO_CC = 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)';
const ENUM_NETWORK = 'must be one of "water", "power", "gas", "heat"';

/** [case, type, data, exact reason] for invalid `data`. */
const INVALID_DATA: Array<[string, string, unknown, string]> = [
  // waterlogging
  ['missing pointId', 'huitian.waterlogging.reading', { depthCm: 3 }, 'data.pointId: is required'],
  ['empty pointId', 'huitian.waterlogging.reading', { pointId: '', depthCm: 3 }, 'data.pointId: must be a non-empty string'],
  ['pointId not a string', 'huitian.waterlogging.reading', { pointId: 7, depthCm: 3 }, 'data.pointId: must be a string (got number)'],
  ['missing depth', 'huitian.waterlogging.reading', { pointId: 'P' }, 'data.depthCm: is required'],
  ['depth as a string', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: '18.5' }, 'data.depthCm: must be a number (got string)'],
  ['negative depth', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: -0.5 }, 'data.depthCm: must be ≥ 0'],
  ['depth in millimetres', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: 1850 }, 'data.depthCm: must be ≤ 1000 (centimetres; was a value in millimetres sent?)'],
  ['district not a string', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: 3, district: 5 }, 'data.district: must be a string (got number)'],
  ['longitude out of range', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: 3, lon: 181 }, 'data.lon: must be ≤ 180'],
  ['latitude out of range', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: 3, lat: -90.5 }, 'data.lat: must be ≥ -90'],
  // utility reading
  ['missing lineId', 'huitian.utility.reading', { network: 'gas', metric: 'gas_lel_pct', value: 1 }, 'data.lineId: is required'],
  ['bad network', 'huitian.utility.reading', { lineId: 'L', network: 'oil', metric: 'gas_lel_pct', value: 1 }, `data.network: ${ENUM_NETWORK}`],
  ['bad metric', 'huitian.utility.reading', { lineId: 'L', network: 'gas', metric: 'ppm', value: 1 }, 'data.metric: must be one of "gas_lel_pct", "pressure_mpa", "flow_m3h", "temperature_c", "load_pct"'],
  ['value not a number', 'huitian.utility.reading', { lineId: 'L', network: 'gas', metric: 'gas_lel_pct', value: '1' }, 'data.value: must be a number (got string)'],
  ['gas above 100 %LEL', 'huitian.utility.reading', { lineId: 'L', network: 'gas', metric: 'gas_lel_pct', value: 100.5 }, 'data.value: must be within [0, 100] for metric gas_lel_pct'],
  ['pressure in kPa', 'huitian.utility.reading', { lineId: 'L', network: 'water', metric: 'pressure_mpa', value: 350 }, 'data.value: must be within [0, 100] for metric pressure_mpa'],
  ['negative flow', 'huitian.utility.reading', { lineId: 'L', network: 'water', metric: 'flow_m3h', value: -1 }, 'data.value: must be within [0, 1000000] for metric flow_m3h'],
  ['temperature too low', 'huitian.utility.reading', { lineId: 'L', network: 'heat', metric: 'temperature_c', value: -61 }, 'data.value: must be within [-60, 250] for metric temperature_c'],
  ['load too high', 'huitian.utility.reading', { lineId: 'L', network: 'power', metric: 'load_pct', value: 301 }, 'data.value: must be within [0, 300] for metric load_pct'],
  // utility alarm
  ['missing code', 'huitian.utility.alarm', { lineId: 'L', network: 'water', state: 'raised' }, 'data.code: is required'],
  ['missing enum fields', 'huitian.utility.alarm', { lineId: 'L', code: 'C' }, 'data.network: is required; data.state: is required'],
  ['bad state', 'huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C', state: 'on' }, 'data.state: must be one of "raised", "cleared"'],
  ['bad level', 'huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C', state: 'raised', level: 'purple' }, 'data.level: must be one of "blue", "yellow", "orange", "red"'],
  ['bad alarm network', 'huitian.utility.alarm', { lineId: 'L', network: 'steam', code: 'C', state: 'raised' }, `data.network: ${ENUM_NETWORK}`],
  ['message not a string', 'huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C', state: 'raised', message: ['x'] }, 'data.message: must be a string (got array)'],
  // parking
  ['non-integer capacity', 'huitian.parking.occupancy', { lotId: 'L', capacity: 100.5, occupied: 3 }, 'data.capacity: must be an integer'],
  ['zero capacity', 'huitian.parking.occupancy', { lotId: 'L', capacity: 0, occupied: 0 }, 'data.capacity: must be > 0'],
  ['non-integer occupied', 'huitian.parking.occupancy', { lotId: 'L', capacity: 100, occupied: 2.5 }, 'data.occupied: must be an integer'],
  ['negative occupied', 'huitian.parking.occupancy', { lotId: 'L', capacity: 100, occupied: -1 }, 'data.occupied: must be ≥ 0'],
  ['capacity as a string', 'huitian.parking.occupancy', { lotId: 'L', capacity: '100', occupied: 1 }, 'data.capacity: must be a number (got string)'],
  // dispatch
  ['missing district', 'huitian.dispatch.received', { incidentId: 'F', category: 'fire' }, 'data.district: is required'],
  ['empty district', 'huitian.dispatch.received', { incidentId: 'F', category: 'fire', district: '' }, 'data.district: must be a non-empty string'],
  ['bad category', 'huitian.dispatch.received', { incidentId: 'F', category: 'flood', district: 'D' }, 'data.category: must be one of "fire", "rescue", "medical", "hazmat", "other"'],
  ['station not a string', 'huitian.dispatch.dispatched', { incidentId: 'F', unitId: 'U', station: 3 }, 'data.station: must be a string (got number)'],
  ['missing unitId', 'huitian.dispatch.dispatched', { incidentId: 'F' }, 'data.unitId: is required'],
  ['two missing fields', 'huitian.dispatch.arrived', {}, 'data.incidentId: is required; data.unitId: is required'],
  ['bad close reason', 'huitian.dispatch.closed', { incidentId: 'F', reason: 'done' }, 'data.reason: must be one of "completed", "cancelled", "false_alarm"'],
  ['null incidentId', 'huitian.dispatch.closed', { incidentId: null, reason: 'completed' }, 'data.incidentId: must be a string (got null)'],
  // control characters in ids and tag values (a separator smuggled into a KPI group key)
  ['separators in pointId', 'huitian.waterlogging.reading', { pointId: 'WL-X\u0001district\u0002DISTRICT-B', depthCm: 3, district: 'DISTRICT-A' }, `data.pointId: ${NO_CC}`],
  ['newline in district', 'huitian.waterlogging.reading', { pointId: 'P', depthCm: 3, district: 'A\nB' }, `data.district: ${NO_CC}`],
  ['NUL in lineId', 'huitian.utility.reading', { lineId: 'L\u0000', network: 'gas', metric: 'gas_lel_pct', value: 1 }, `data.lineId: ${NO_CC}`],
  ['DEL in alarm code', 'huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C\u007f', state: 'raised' }, `data.code: ${NO_CC}`],
  ['C1 control in alarm district', 'huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C', state: 'raised', district: 'D\u0085' }, `data.district: ${NO_CC}`],
  ['tab in lotId', 'huitian.parking.occupancy', { lotId: 'L\t1', capacity: 10, occupied: 1 }, `data.lotId: ${NO_CC}`],
  ['control in received district', 'huitian.dispatch.received', { incidentId: 'F', category: 'fire', district: 'D\u0002E' }, `data.district: ${NO_CC}`],
  ['control in received station', 'huitian.dispatch.received', { incidentId: 'F', category: 'fire', district: 'D', station: 'S\u001b' }, `data.station: ${NO_CC}`],
  ['control in incidentId', 'huitian.dispatch.dispatched', { incidentId: 'F\r', unitId: 'U' }, `data.incidentId: ${NO_CC}`],
  ['control in dispatch station', 'huitian.dispatch.dispatched', { incidentId: 'F', unitId: 'U', station: '\u0001' }, `data.station: ${NO_CC}`],
  ['control in unitId', 'huitian.dispatch.arrived', { incidentId: 'F', unitId: 'U\u009f' }, `data.unitId: ${NO_CC}`],
  ['pointId ending in a backslash', 'huitian.waterlogging.reading', { pointId: 'C:\\', depthCm: 3 }, 'data.pointId: must not end with a backslash (InfluxDB cannot store a tag that does)'],
  ['district ending in a backslash', 'huitian.parking.occupancy', { lotId: 'L', capacity: 10, occupied: 1, district: 'D\\' }, 'data.district: must not end with a backslash (InfluxDB cannot store a tag that does)'],
  ['lotId over 256 characters', 'huitian.parking.occupancy', { lotId: 'L'.repeat(257), capacity: 10, occupied: 1 }, 'data.lotId: must be at most 256 characters'],
  ['station over 256 characters', 'huitian.dispatch.dispatched', { incidentId: 'F', unitId: 'U', station: '站'.repeat(257) }, 'data.station: must be at most 256 characters'],
  ['control in closed incidentId', 'huitian.dispatch.closed', { incidentId: '\u0002', reason: 'completed' }, `data.incidentId: ${NO_CC}`],
  // data not an object
  ['data an array', 'huitian.dispatch.closed', [], 'data: must be an object (got array)'],
  ['data null', 'huitian.dispatch.closed', null, 'data: must be an object (got null)'],
  ['data a string', 'huitian.waterlogging.reading', '{"pointId":"P"}', 'data: must be an object (got string)'],
  ['data a number', 'huitian.parking.occupancy', 5, 'data: must be an object (got number)'],
];

describe('decodeEvent: text that is not an id or a tag', () => {
  it('keeps control characters in free text (a name, an alarm message)', () => {
    const decoded = decodeEvent(envelope('huitian.utility.alarm', { lineId: 'L', network: 'water', code: 'C', state: 'raised', message: '压力低\n请检查' }));
    expect(decoded.ok && decoded.event.data).toEqual({ lineId: 'L', network: 'water', code: 'C', state: 'raised', message: '压力低\n请检查' });
    expect(decodeEvent(envelope(WL, { ...WATER, name: '桥下\t东侧' })).ok).toBe(true);
  });

  it('reads an empty district or station as absent (InfluxDB has no empty tag value)', () => {
    const wl = decodeEvent(envelope(WL, { pointId: 'P', depthCm: 3, district: '' }));
    expect(wl.ok && wl.event.data).toEqual({ pointId: 'P', depthCm: 3 });
    const dsp = decodeEvent(envelope('huitian.dispatch.dispatched', { incidentId: 'F', unitId: 'U', station: '' }));
    expect(dsp.ok && dsp.event.data).toEqual({ incidentId: 'F', unitId: 'U' });
    const rcv = decodeEvent(envelope('huitian.dispatch.received', Object.assign(Object.create(null), { incidentId: 'F', category: 'fire', district: 'D', station: '' })));
    expect(rcv.ok && rcv.event.data).toEqual({ incidentId: 'F', category: 'fire', district: 'D' });
  });
});

describe('decodeEvent: invalid data', () => {
  for (const [name, type, data, reason] of INVALID_DATA) {
    it(`${type}: ${name}`, () => {
      expect(decodeEvent(envelope(type, data))).toEqual({ ok: false, reason, id: 'e-1', type });
    });
  }

  it('every type has at least one invalid-data case', () => {
    expect(new Set(INVALID_DATA.map(([, type]) => type))).toEqual(new Set(EVENT_TYPES));
  });
});

const WATER = VALID['huitian.waterlogging.reading']!.minimal;
const WL = 'huitian.waterlogging.reading';
const BAD_TIME = 'time: must be a valid RFC 3339 timestamp with offset';

/** [case, raw event, exact reason] for invalid envelopes. */
const INVALID_ENVELOPE: Array<[string, Record<string, unknown>, string]> = [
  ['missing data', without(envelope(WL, WATER), 'data'), 'data: is required'],
  ['missing id', without(envelope(WL, WATER), 'id'), 'id: is required'],
  ['empty id', envelope(WL, WATER, { id: '' }), 'id: must be a non-empty string'],
  ['numeric id', envelope(WL, WATER, { id: 42 }), 'id: must be a string (got number)'],
  ['missing source', without(envelope(WL, WATER), 'source'), 'source: is required'],
  ['control character in id', envelope(WL, WATER, { id: 'e\u0000-1' }), `id: ${NO_CC}`],
  ['control character in source', envelope(WL, WATER, { source: '/test\n' }), `source: ${NO_CC}`],
  ['missing type', without(envelope(WL, WATER), 'type'), 'type: is required'],
  ['empty type', envelope('', WATER), 'type: must be a non-empty string'],
  ['missing specversion', without(envelope(WL, WATER), 'specversion'), 'specversion: is required'],
  ['specversion 0.3', envelope(WL, WATER, { specversion: '0.3' }), 'specversion: must be "1.0"'],
  ['specversion as a number', envelope(WL, WATER, { specversion: 1.0 }), 'specversion: must be "1.0"'],
  ['absent time', without(envelope(WL, WATER), 'time'), 'time: is required'],
  ['time as epoch ms', envelope(WL, WATER, { time: TIME_MS }), 'time: must be a string (got number)'],
  ['time without offset', envelope(WL, WATER, { time: '2026-07-21T08:15:00' }), BAD_TIME],
  ['date only', envelope(WL, WATER, { time: '2026-07-21' }), BAD_TIME],
  ['time without seconds', envelope(WL, WATER, { time: '2026-07-21T08:15+08:00' }), BAD_TIME],
  ['time in another format', envelope(WL, WATER, { time: 'Tue, 21 Jul 2026 08:15:00 +0800' }), BAD_TIME],
  ['February 30', envelope(WL, WATER, { time: '2026-02-30T08:00:00+08:00' }), BAD_TIME],
  ['February 29 of a common year', envelope(WL, WATER, { time: '2026-02-29T08:00:00Z' }), BAD_TIME],
  ['month 13', envelope(WL, WATER, { time: '2026-13-01T08:00:00Z' }), BAD_TIME],
  ['hour 24', envelope(WL, WATER, { time: '2026-07-21T24:00:00Z' }), BAD_TIME],
  ['offset hour 24', envelope(WL, WATER, { time: '2026-07-21T08:00:00+24:00' }), BAD_TIME],
  ['subject not a string', envelope(WL, WATER, { subject: 5 }), 'subject: must be a string (got number)'],
  ['datacontenttype not a string', envelope(WL, WATER, { datacontenttype: false }), 'datacontenttype: must be a string (got boolean)'],
  ['several envelope problems', { specversion: '1.0', type: WL, time: 'soon', data: WATER }, 'id: is required; source: is required; time: must be a valid RFC 3339 timestamp with offset'],
];

describe('decodeEvent: invalid envelopes', () => {
  for (const [name, raw, reason] of INVALID_ENVELOPE) {
    it(name, () => {
      const decoded = decodeEvent(raw);
      expect(decoded.ok).toBe(false);
      if (decoded.ok) return;
      expect(decoded.reason).toBe(reason);
    });
  }

  it('unknown type names the known ones', () => {
    expect(decodeEvent(envelope('huitian.flood.reading', WATER))).toEqual({
      ok: false,
      reason:
        'type: unknown event type "huitian.flood.reading" (known: huitian.waterlogging.reading, huitian.utility.reading, huitian.utility.alarm, huitian.parking.occupancy, huitian.dispatch.received, huitian.dispatch.dispatched, huitian.dispatch.arrived, huitian.dispatch.closed)',
      id: 'e-1',
      type: 'huitian.flood.reading',
    });
  });

  it('a rejection carries the id and type when they are usable strings, for the dead-letter store', () => {
    expect(decodeEvent(envelope(WL, { pointId: 'P', depthCm: -1 }, { id: 'wl-9' }))).toMatchObject({ id: 'wl-9', type: WL });
    const noId = decodeEvent(envelope(WL, WATER, { id: '' }));
    expect(noId).toEqual({ ok: false, reason: 'id: must be a non-empty string', id: undefined, type: WL });
  });

  it('refuses values that are not a JSON object', () => {
    expect(decodeEvent(null)).toEqual({ ok: false, reason: '(event): must be a JSON object (got null)' });
    expect(decodeEvent([envelope(WL, WATER)])).toEqual({ ok: false, reason: '(event): must be a JSON object (got array)' });
    expect(decodeEvent('event')).toEqual({ ok: false, reason: '(event): must be a JSON object (got string)' });
    expect(decodeEvent(3)).toEqual({ ok: false, reason: '(event): must be a JSON object (got number)' });
  });

  it('reports the envelope before looking at data', () => {
    const decoded = decodeEvent(envelope(WL, { depthCm: -1 }, { specversion: '2.0' }));
    expect(decoded).toMatchObject({ ok: false, reason: 'specversion: must be "1.0"' });
  });
});

describe('decodeJson', () => {
  it('decodes one JSON document', () => {
    const decoded = decodeJson(JSON.stringify(envelope(WL, WATER)));
    expect(decoded).toEqual({ ok: true, event: { id: 'e-1', source: '/test', type: WL, time: TIME_MS, data: WATER } });
  });

  it('refuses text that is not JSON, quoting the parser', () => {
    const decoded = decodeJson('{"specversion": "1.0", "id": ');
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toMatch(/^\(event\): invalid JSON \(.+\)$/);
    expect(decoded).not.toHaveProperty('id');
  });

  it('refuses a JSON value that is not an object', () => {
    expect(decodeJson('[1,2]')).toEqual({ ok: false, reason: '(event): must be a JSON object (got array)' });
  });
});

/** A key that is absent from the generated envelope. */
const MISSING = Symbol('missing');

const anyJson = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));

const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((d) => d.join(''));

/** Strings near the RFC 3339 grammar: well-formed, impossible dates, and one piece off. */
const timeText = fc.oneof(
  { arbitrary: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()), weight: 3 },
  { arbitrary: fc.string(), weight: 1 },
  fc
    .tuple(digits(4), digits(2), digits(2), fc.constantFrom('T', 't', ' ', '_'), digits(2), digits(2), digits(2), fc.constantFrom('', '.5', '.123456789', '.', '.1234567890'), fc.constantFrom('Z', 'z', '+08:00', '-04:30', '', '+0800', '+8:00'))
    .map(([y, mo, d, sep, h, mi, s, frac, off]) => `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${frac}${off}`),
);

const field = (valid: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 16 }, { arbitrary: anyJson, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 });

const generatedEnvelope = fc
  .record({
    specversion: fc.oneof({ arbitrary: fc.constant('1.0'), weight: 16 }, { arbitrary: fc.constantFrom('1', '1.0 ', '0.3', 1, 1.0), weight: 1 }, { arbitrary: anyJson, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 }),
    // Control characters (refused) and their neighbours (taken) now and then, so the
    // generator still reaches an accepted envelope often.
    id: field(fc.oneof({ arbitrary: fc.string({ minLength: 1 }), weight: 6 }, fc.constant(''), fc.constantFrom('e\u0000', 'a\u0001b', '\u007f', '\u0085', '\u00a0'))),
    source: field(fc.oneof({ arbitrary: fc.string({ minLength: 1 }), weight: 6 }, fc.constant(''), fc.constantFrom('/s\n', '\u009f', '/s\u00a0'))),
    type: field(fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string())),
    time: field(timeText),
    subject: fc.oneof({ arbitrary: fc.constant(MISSING), weight: 4 }, { arbitrary: fc.string(), weight: 4 }, { arbitrary: anyJson, weight: 1 }),
    datacontenttype: fc.oneof({ arbitrary: fc.constant(MISSING), weight: 4 }, { arbitrary: fc.constant('application/json'), weight: 4 }, { arbitrary: anyJson, weight: 1 }),
    data: field(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 })),
    extensions: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), anyJson, { maxKeys: 2 }),
  })
  .map(({ extensions, ...attributes }) => {
    const raw: Record<string, unknown> = { ...extensions };
    for (const [k, v] of Object.entries(attributes)) if (v !== MISSING) raw[k] = v;
    // Events reach the decoder through JSON.parse; model exactly that.
    return JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
  });

describe('envelopeLooksValid (the hot-path check)', () => {
  it('accepts exactly what the zod envelope schema accepts', () => {
    let accepted = 0;
    const numRuns = runs(5000);
    fc.assert(
      fc.property(generatedEnvelope, (raw) => {
        const zodSays = anyTypeEnvelope.safeParse(raw).success;
        if (zodSays) accepted++;
        expect(envelopeLooksValid(raw)).toBe(zodSays);
      }),
      { numRuns },
    );
    // The generator must reach both answers often (each in at least 4 % of the runs), or the property proves little.
    expect(accepted).toBeGreaterThan(numRuns * 0.04);
    expect(accepted).toBeLessThan(numRuns * 0.96);
  });

  it('agrees on the cases that once told them apart: a time string of the wrong shape', () => {
    const raw = envelope(WL, WATER, { time: '2026-07-21T08:15:00' });
    expect(anyTypeEnvelope.safeParse(raw).success).toBe(false);
    expect(envelopeLooksValid(raw)).toBe(false);
  });
});
