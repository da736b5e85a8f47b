/**
 * The hot-path `data` check never disagrees with the zod schemas: whatever it accepts,
 * zod accepts with the same output (same keys, same order, same values); whatever it is
 * unsure of goes to zod. And it does accept the ordinary valid events, or it would be
 * no fast path at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastData } from '../../src/events/data-fast-path.js';
import { decodeEvent } from '../../src/events/decode.js';
import {
  CLOSE_REASONS,
  DATA_SCHEMAS,
  EVENT_TYPES,
  INCIDENT_CATEGORIES,
  UTILITY_METRICS,
  UTILITY_NETWORKS,
  WARNING_LEVELS,
  type EventType,
} from '../../src/events/schemas.js';
import { runs } from '../helpers/property-runs.js';

const MISSING = Symbol('missing');
const UNDEFINED = Symbol('undefined');

const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  fc.constantFrom(0, -0, 1e21, Number.MAX_SAFE_INTEGER + 1, 2 ** 53, -1, 0.5, Infinity, -Infinity, Number.NaN, ''),
);

/** What ids and tags may not hold (control characters, a trailing backslash, over 256 characters) and their neighbours that they may. */
const controlish = fc.constantFrom('A\u0001B', 'x\n', '\u0000', '\u001f', '\u007f', '\u0085', '\u009f', '\u00a0', '~', ' ', 'C:\\', '\\x', 'a'.repeat(256), 'b'.repeat(257), '回'.repeat(257));
const id = fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 8 }), weight: 6 }, { arbitrary: fc.constant(''), weight: 1 }, { arbitrary: controlish, weight: 1 });
const text = fc.oneof({ arbitrary: fc.string({ maxLength: 8 }), weight: 6 }, { arbitrary: controlish, weight: 1 });
const numberNear = (lo: number, hi: number) =>
  fc.oneof(
    fc.double({ min: lo, max: hi, noNaN: true }),
    fc.constantFrom(lo, hi, lo - 1e-9, hi + 1e-9, lo - 1, hi + 1, -0, 0),
    fc.integer({ min: Math.ceil(lo) - 2, max: Math.floor(hi) + 2 }),
  );
const count = fc.oneof(fc.integer({ min: -3, max: 5000 }), fc.constantFrom(0, -0, 1, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300));

/** Each type's fields: a generator of mostly valid values. */
const FIELDS: Record<EventType, Record<string, fc.Arbitrary<unknown>>> = {
  'huitian.waterlogging.reading': { pointId: id, depthCm: numberNear(0, 1000), district: text, name: text, lon: numberNear(-180, 180), lat: numberNear(-90, 90) },
  'huitian.utility.reading': {
    lineId: id,
    network: fc.constantFrom(...UTILITY_NETWORKS, 'sewage'),
    metric: fc.constantFrom(...UTILITY_METRICS, 'volts'),
    value: fc.oneof(numberNear(0, 100), numberNear(-60, 250), numberNear(0, 1_000_000)),
    district: text,
  },
  'huitian.utility.alarm': {
    lineId: id,
    network: fc.constantFrom(...UTILITY_NETWORKS),
    code: id,
    state: fc.constantFrom('raised', 'cleared', 'RAISED'),
    level: fc.constantFrom(...WARNING_LEVELS, 'purple'),
    message: text,
    district: text,
  },
  'huitian.parking.occupancy': { lotId: id, capacity: count, occupied: count, district: text, name: text },
  'huitian.dispatch.received': {
    incidentId: id,
    category: fc.constantFrom(...INCIDENT_CATEGORIES, 'flood'),
    district: id,
    station: text,
    lon: numberNear(-180, 180),
    lat: numberNear(-90, 90),
  },
  'huitian.dispatch.dispatched': { incidentId: id, unitId: id, station: text },
  'huitian.dispatch.arrived': { incidentId: id, unitId: id },
  'huitian.dispatch.closed': { incidentId: id, reason: fc.constantFrom(...CLOSE_REASONS, 'done') },
};

/** `data` of a type: each field valid-ish, junk, missing or undefined, plus stray keys, in any order. */
function dataOf(type: EventType): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(FIELDS[type]).map(([k, valid]) => [
      k,
      fc.oneof({ arbitrary: valid, weight: 24 }, { arbitrary: junk, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 2 }, { arbitrary: fc.constant(UNDEFINED), weight: 1 }),
    ]),
  );
  return fc
    .tuple(fc.record(fields), fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), junk, { maxKeys: 2 }), fc.integer())
    .map(([known, extra, seed]) => {
      const entries = [...Object.entries(extra), ...Object.entries(known)];
      // A deterministic shuffle: producers put keys in any order.
      entries.sort((a, b) => ((a[0].charCodeAt(0) * 31 + seed) % 7) - ((b[0].charCodeAt(0) * 31 + seed) % 7));
      const data: Record<string, unknown> = {};
      for (const [k, v] of entries) {
        if (v === MISSING) continue;
        data[k] = v === UNDEFINED ? undefined : v;
      }
      return data;
    });
}

describe('fastData', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: whatever it accepts, zod accepts with the same output`, () => {
      let fast = 0;
      let zodOk = 0;
      fc.assert(
        fc.property(dataOf(type), (data) => {
          const zod = DATA_SCHEMAS[type].safeParse(data);
          const out = fastData(type, data);
          if (zod.success) zodOk++;
          if (out === undefined) return;
          fast++;
          expect(zod.success).toBe(true);
          if (!zod.success) return;
          expect(Object.keys(out)).toEqual(Object.keys(zod.data));
          expect(out).toEqual(zod.data);
          for (const k of Object.keys(out)) expect(Object.is(out[k], (zod.data as Record<string, unknown>)[k])).toBe(true);
        }),
        { numRuns: runs(3000) },
      );
      // Both answers must be reached often, and the fast path must take most valid data.
      expect(zodOk).toBeGreaterThan(150);
      expect(fast).toBeGreaterThan(zodOk * 0.8);
    });
  }

  it('leaves to zod what is not a plain object, and keys present but undefined', () => {
    const data = { pointId: 'P-1', depthCm: 3 };
    expect(fastData('huitian.waterlogging.reading', data)).toEqual(data);
    expect(fastData('huitian.waterlogging.reading', Object.assign(Object.create(null), data))).toBeUndefined();
    expect(fastData('huitian.waterlogging.reading', Object.assign(Object.create({ name: 'inherited' }), data))).toBeUndefined();
    expect(fastData('huitian.waterlogging.reading', { ...data, name: undefined })).toBeUndefined();
    expect(fastData('huitian.waterlogging.reading', [data])).toBeUndefined();
    expect(fastData('huitian.waterlogging.reading', null)).toBeUndefined();
  });

  it('decodeEvent gives zod’s answer either way', () => {
    const raw = (data: unknown) => ({ specversion: '1.0', id: 'e-1', source: '/s', type: 'huitian.waterlogging.reading', time: '2026-07-21T08:00:00+08:00', data });
    const plain = decodeEvent(raw({ pointId: 'P-1', depthCm: 3, extra: 1 }));
    const viaZod = decodeEvent(raw(Object.assign(Object.create(null), { pointId: 'P-1', depthCm: 3, extra: 1 })));
    expect(plain).toEqual(viaZod);
    expect(plain.ok && Object.keys(plain.event.data)).toEqual(['pointId', 'depthCm']);
  });
});
