/**
 * `schemas/` holds JSON Schemas generated from the zod contract (DESIGN §2). This test
 * fails when the committed files drift from the generator, and checks that the schemas
 * judge sample events as the decoder does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/events/decode.js';
import { parseRfc3339 } from '../../src/events/event-time.js';
import { generateJsonSchemas, SCHEMA_ID_PREFIX, schemasReadme } from '../../src/events/json-schemas.js';
import { EVENT_TYPES, UTILITY_METRICS } from '../../src/events/schemas.js';
import { keywordsOf, validate } from '../helpers/json-schema-subset.js';
import { runs } from '../helpers/property-runs.js';

const DIR = join(import.meta.dirname, '..', '..', 'schemas');
const REGENERATE = 'schemas/ is out of date with src/events/schemas.ts: run `npm run schemas` and commit the result';

const generated = generateJsonSchemas();

describe('schemas/ matches the zod contract', () => {
  it('has one file per event type, and nothing else', () => {
    const committed = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
    expect(committed, REGENERATE).toEqual(EVENT_TYPES.map((t) => `${t}.json`).sort());
    expect(Object.keys(generated).sort()).toEqual(committed);
  });

  for (const [file, schema] of Object.entries(generated)) {
    it(`${file} is what the generator writes`, () => {
      const committed = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;
      expect(committed, REGENERATE).toEqual(schema);
    });
  }

  it('README.md is what the generator writes', () => {
    expect(readFileSync(join(DIR, 'README.md'), 'utf8'), REGENERATE).toBe(schemasReadme());
  });
});

describe('the generated schemas', () => {
  it('are draft 2020-12 with an $id and a title, and require the CloudEvents attributes plus time', () => {
    for (const type of EVENT_TYPES) {
      const s = generated[`${type}.json`]!;
      expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(s.$id).toBe(`${SCHEMA_ID_PREFIX}${type}`);
      expect(typeof s.title).toBe('string');
      expect(s.required).toEqual(['specversion', 'id', 'source', 'type', 'time', 'data']);
      expect((s.properties as Record<string, unknown>).type).toEqual({ type: 'string', const: type });
    }
  });

  it('write what JSON Schema cannot check into their description', () => {
    const utility = generated['huitian.utility.reading.json']!;
    expect(utility.description).toContain('gas_lel_pct [0, 100], pressure_mpa [0, 100], flow_m3h [0, 1000000], temperature_c [-60, 250], load_pct [0, 300]');
    const time = (generated['huitian.waterlogging.reading.json']!.properties as Record<string, Record<string, unknown>>).time!;
    expect(time.description).toContain('2026-02-30');
  });

  it('use only keywords the test validator implements (so it cannot pass an event by ignoring a rule)', () => {
    for (const schema of Object.values(generated)) expect(() => validate(schema, {})).not.toThrow();
    const used = new Set<string>();
    for (const schema of Object.values(generated)) keywordsOf(schema, used);
    expect([...used].sort()).toEqual(
      ['$id', '$schema', 'additionalProperties', 'allOf', 'const', 'description', 'enum', 'exclusiveMinimum', 'if', 'maxLength', 'maximum', 'minLength', 'minimum', 'pattern', 'properties', 'required', 'then', 'title', 'type'].sort(),
    );
  });
});

const SAMPLES: Record<string, Record<string, unknown>> = {
  'huitian.waterlogging.reading': { pointId: 'HLG-001', depthCm: 18.5, district: '回龙观街道', name: '桥下', lon: 116.3, lat: 40.07 },
  'huitian.utility.reading': { lineId: 'G-7', network: 'gas', metric: 'gas_lel_pct', value: 12 },
  'huitian.utility.alarm': { lineId: 'W-1', network: 'water', code: 'P-LOW', state: 'raised', level: 'orange', message: '压力低' },
  'huitian.parking.occupancy': { lotId: 'LOT-1', capacity: 100, occupied: 104 },
  'huitian.dispatch.received': { incidentId: 'F-1', category: 'fire', district: '回龙观街道', station: '回龙观消防站' },
  'huitian.dispatch.dispatched': { incidentId: 'F-1', unitId: 'U-1', station: '回龙观消防站' },
  'huitian.dispatch.arrived': { incidentId: 'F-1', unitId: 'U-1' },
  'huitian.dispatch.closed': { incidentId: 'F-1', reason: 'cancelled' },
};

function event(type: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id: 'e-1', source: '/test', type, time: '2026-07-21T08:15:00+08:00', data, ...extra };
}

const schemaOf = (type: string) => generated[`${type}.json`]!;

describe('sample events against the generated schemas', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: a valid sample passes`, () => {
      expect(validate(schemaOf(type), event(type, SAMPLES[type]))).toEqual([]);
    });
  }

  it('refuse what the decoder refuses, naming the same field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['huitian.waterlogging.reading', event('huitian.waterlogging.reading', { pointId: 'P', depthCm: -1 }), 'data.depthCm: minimum'],
      ['huitian.parking.occupancy', event('huitian.parking.occupancy', { lotId: 'L', capacity: 10.5, occupied: 1 }), 'data.capacity: type integer'],
      ['huitian.parking.occupancy', event('huitian.parking.occupancy', { lotId: 'L', capacity: 0, occupied: 1 }), 'data.capacity: exclusiveMinimum'],
      ['huitian.utility.alarm', event('huitian.utility.alarm', { lineId: 'L', network: 'oil', code: 'C', state: 'raised' }), 'data.network: enum'],
      ['huitian.utility.reading', event('huitian.utility.reading', { lineId: 'L', network: 'gas', metric: 'gas_lel_pct', value: 101 }), 'data.value: maximum'],
      ['huitian.utility.reading', event('huitian.utility.reading', { lineId: 'L', network: 'heat', metric: 'temperature_c', value: -61 }), 'data.value: minimum'],
      ['huitian.dispatch.received', event('huitian.dispatch.received', { incidentId: 'F', category: 'fire' }), 'data.district: required'],
      ['huitian.dispatch.closed', event('huitian.dispatch.closed', SAMPLES['huitian.dispatch.closed'], { time: '2026-07-21T08:15:00' }), 'time: pattern'],
      ['huitian.dispatch.closed', event('huitian.dispatch.closed', SAMPLES['huitian.dispatch.closed'], { specversion: '0.3' }), 'specversion: const'],
      ['huitian.dispatch.closed', event('huitian.dispatch.closed', []), 'data: type object'],
      ['huitian.dispatch.arrived', event('huitian.dispatch.arrived', SAMPLES['huitian.dispatch.arrived'], { id: '' }), 'id: minLength'],
      ['huitian.dispatch.arrived', event('huitian.dispatch.arrived', SAMPLES['huitian.dispatch.arrived'], { source: '/s\n' }), 'source: pattern'],
      ['huitian.waterlogging.reading', event('huitian.waterlogging.reading', { pointId: 'WL\u0001district\u0002B', depthCm: 1 }), 'data.pointId: pattern'],
      ['huitian.waterlogging.reading', event('huitian.waterlogging.reading', { pointId: 'P', depthCm: 1, district: 'D\\' }), 'data.district: pattern'],
      ['huitian.parking.occupancy', event('huitian.parking.occupancy', { lotId: 'L'.repeat(257), capacity: 10, occupied: 1 }), 'data.lotId: maxLength'],
    ];
    for (const [type, raw, error] of cases) {
      expect(decodeEvent(raw).ok, error).toBe(false);
      expect(validate(schemaOf(type), raw), error).toEqual([error]);
    }
  });

  it('a schema admits an impossible date that the decoder refuses (as its description says)', () => {
    const raw = event('huitian.dispatch.arrived', SAMPLES['huitian.dispatch.arrived'], { time: '2026-02-30T08:00:00Z' });
    expect(validate(schemaOf('huitian.dispatch.arrived'), raw)).toEqual([]);
    expect(decodeEvent(raw)).toMatchObject({ ok: false, reason: 'time: must be a valid RFC 3339 timestamp with offset' });
  });

  it('agree with the decoder on mutated events of every type', () => {
    const mutation = fc.record({
      type: fc.constantFrom(...EVENT_TYPES),
      drop: fc.option(fc.nat(), { nil: undefined }),
      set: fc.option(fc.tuple(fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...UTILITY_METRICS), fc.double({ min: -100, max: 2000, noNaN: true }), fc.integer({ min: -5, max: 400 }))), { nil: undefined }),
      time: fc.oneof(fc.constant('2026-07-21T08:15:00+08:00'), fc.constant('2026-07-21T08:15:00'), fc.constant('2026-07-21T08:15:00.5Z')),
    });
    fc.assert(
      fc.property(mutation, ({ type, drop, set, time }) => {
        const data: Record<string, unknown> = { ...SAMPLES[type] };
        const keys = Object.keys(data);
        if (drop !== undefined) delete data[keys[drop % keys.length]!];
        if (set !== undefined) data[keys[set[0] % keys.length]!] = set[1];
        const raw = JSON.parse(JSON.stringify(event(type, data, { time }))) as Record<string, unknown>;
        // Every time here is a real calendar instant or malformed, so the two must agree.
        expect(parseRfc3339(time) !== undefined || validate(schemaOf(type), raw).length > 0).toBe(true);
        expect(validate(schemaOf(type), raw).length === 0).toBe(decodeEvent(raw).ok);
      }),
      { numRuns: runs(3000) },
    );
  });
});
