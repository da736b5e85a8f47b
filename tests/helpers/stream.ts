/**
 * A realistic random event stream for property tests: an hour of the district with fire
 * and rescue incidents (several units, cancellations, calls never dispatched, arrivals
 * with no dispatch recorded), waterlogging points, parking lots, gas readings and utility
 * alarms, plus re-sent duplicates. Times are whole seconds from T0, so sums of response
 * seconds are exact in any order.
 */
import fc from 'fast-check';
import type { HuitianEvent } from '../../src/events/schemas.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { tagKeyOf, type PartialDelta } from '../../src/kpis/partials.js';
import { evaluateKpi, type KpiResult, type PartialRow } from '../../src/kpis/query.js';
import { ev, HLG, HY, TTYN, TTYS } from './events.js';

const DISTRICTS = [HLG, TTYN, TTYS, HY];
const STATIONS = ['回龙观消防站', '天通苑消防站', '霍营消防站'];
const HOUR = 3600;

const incident = fc.record({
  r: fc.integer({ min: 0, max: HOUR }),
  category: fc.constantFrom('fire', 'fire', 'fire', 'rescue', 'rescue', 'medical', 'other'),
  district: fc.constantFrom(...DISTRICTS),
  receivedStation: fc.option(fc.constantFrom(...STATIONS), { nil: undefined }),
  /** Seconds from the call to the first dispatch order; undefined: never dispatched. */
  dispatchAfter: fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined, freq: 5 }),
  /** Never dispatched: do units turn up anyway (their arrival starts the clock at `received`)? */
  undispatchedArrive: fc.boolean(),
  units: fc.array(
    fc.record({
      extra: fc.integer({ min: 0, max: 120 }),
      station: fc.option(fc.constantFrom(...STATIONS), { nil: undefined, freq: 5 }),
      /** Travel seconds; undefined: this unit never reports arriving. */
      travel: fc.option(fc.integer({ min: 20, max: 720 }), { nil: undefined, freq: 4 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  close: fc.option(fc.record({ after: fc.integer({ min: 30, max: 1800 }), reason: fc.constantFrom('completed', 'cancelled', 'false_alarm') }), { nil: undefined, freq: 3 }),
});

const point = fc.record({
  district: fc.option(fc.constantFrom(...DISTRICTS), { nil: undefined, freq: 4 }),
  /** Each reading names the district with this probability (sensors differ). */
  sendsDistrict: fc.constantFrom(0, 0.5, 1),
  steps: fc.array(fc.record({ gap: fc.integer({ min: 20, max: 150 }), delta: fc.integer({ min: -15, max: 15 }), withDistrict: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 50 }),
});

const lot = fc.record({
  capacity: fc.integer({ min: 50, max: 400 }),
  district: fc.option(fc.constantFrom(...DISTRICTS), { nil: undefined, freq: 4 }),
  steps: fc.array(fc.record({ gap: fc.integer({ min: 30, max: 240 }), fill: fc.double({ min: 0.7, max: 1.05, noNaN: true }) }), { minLength: 1, maxLength: 25 }),
});

const alarm = fc.record({
  lineId: fc.constantFrom('W-1', 'W-2', 'E-7', 'H-3'),
  network: fc.constantFrom('water', 'power', 'heat'),
  code: fc.constantFrom('P-LOW', 'LEAK', 'OVERLOAD'),
  district: fc.option(fc.constantFrom(...DISTRICTS), { nil: undefined }),
  t: fc.integer({ min: 0, max: HOUR }),
  state: fc.constantFrom('raised', 'raised', 'cleared'),
  level: fc.option(fc.constantFrom('blue', 'yellow', 'orange', 'red'), { nil: undefined }),
});

const gas = fc.record({ lineId: fc.constantFrom('G-1', 'G-2'), t: fc.integer({ min: 0, max: HOUR }), value: fc.integer({ min: 0, max: 70 }) });

/** Builds the events of one generated day, in generation (not time) order. */
export const eventStream: fc.Arbitrary<HuitianEvent[]> = fc
  .record({
    incidents: fc.array(incident, { maxLength: 25 }),
    points: fc.array(point, { maxLength: 3 }),
    lots: fc.array(lot, { maxLength: 2 }),
    alarms: fc.array(alarm, { maxLength: 12 }),
    gas: fc.array(gas, { maxLength: 10 }),
    duplicates: fc.array(fc.nat(), { maxLength: 6 }),
  })
  .map((s) => {
    const events: HuitianEvent[] = [];
    let n = 0;
    const id = (kind: string) => `${kind}-${n++}`;
    s.incidents.forEach((inc, i) => {
      const iid = `F${i}`;
      const extra = inc.receivedStation === undefined ? {} : { station: inc.receivedStation };
      events.push(ev('huitian.dispatch.received', inc.r, { incidentId: iid, category: inc.category, district: inc.district, ...extra }, { id: id('rcv'), source: '/dispatch' }));
      const firstOrder = inc.dispatchAfter === undefined ? undefined : inc.r + inc.dispatchAfter;
      for (const [k, u] of inc.units.entries()) {
        const unitId = `${iid}-U${k}`;
        const ordered = firstOrder === undefined ? inc.r : firstOrder + (k === 0 ? 0 : u.extra);
        if (firstOrder !== undefined) {
          events.push(ev('huitian.dispatch.dispatched', ordered, u.station === undefined ? { incidentId: iid, unitId } : { incidentId: iid, unitId, station: u.station }, { id: id('dsp'), source: '/dispatch' }));
        }
        const arrives = u.travel !== undefined && (firstOrder !== undefined || inc.undispatchedArrive);
        if (arrives) events.push(ev('huitian.dispatch.arrived', ordered + u.travel!, { incidentId: iid, unitId }, { id: id('arr'), source: '/dispatch' }));
      }
      if (inc.close !== undefined) events.push(ev('huitian.dispatch.closed', inc.r + inc.close.after, { incidentId: iid, reason: inc.close.reason }, { id: id('cls'), source: '/dispatch' }));
    });
    s.points.forEach((p, i) => {
      let t = 0;
      let depth = 5;
      for (const step of p.steps) {
        t += step.gap;
        depth = Math.max(0, Math.min(80, depth + step.delta));
        const district = p.district !== undefined && step.withDistrict < p.sendsDistrict ? { district: p.district } : {};
        events.push(ev('huitian.waterlogging.reading', t, { pointId: `P${i}`, depthCm: depth, ...district }, { id: id('wl'), source: '/sensors/waterlogging' }));
      }
    });
    s.lots.forEach((l, i) => {
      let t = 0;
      for (const step of l.steps) {
        t += step.gap;
        const district = l.district === undefined ? {} : { district: l.district };
        events.push(ev('huitian.parking.occupancy', t, { lotId: `L${i}`, capacity: l.capacity, occupied: Math.round(l.capacity * step.fill), ...district }, { id: id('lot'), source: '/parking' }));
      }
    });
    for (const a of s.alarms) {
      const data: Record<string, unknown> = { lineId: a.lineId, network: a.network, code: a.code, state: a.state };
      if (a.district !== undefined) data.district = a.district;
      if (a.level !== undefined) data.level = a.level;
      events.push(ev('huitian.utility.alarm', a.t, data, { id: id('alm'), source: '/utility/alarms' }));
    }
    for (const g of s.gas) events.push(ev('huitian.utility.reading', g.t, { lineId: g.lineId, network: 'gas', metric: 'gas_lel_pct', value: g.value }, { id: id('gas'), source: '/sensors/utility' }));
    // Re-sends of earlier events (at-least-once delivery): same source and id.
    if (events.length > 0) for (const d of s.duplicates) events.push({ ...events[d % events.length]! } as HuitianEvent);
    return events;
  });

/** Events in event-time order (stable), the order a well-behaved producer sends. */
export function inTimeOrder(events: readonly HuitianEvent[]): HuitianEvent[] {
  return [...events].sort((a, b) => a.time - b.time);
}

/**
 * A permutation in which every event still arrives before the watermark passes it:
 * sorted by event time plus a jitter below the allowed lateness. Whatever the jitters,
 * when an event arrives every event already seen is less than `latenessMs` newer.
 */
export function shuffledWithinLateness(events: readonly HuitianEvent[], jitters: readonly number[], latenessMs: number): HuitianEvent[] {
  return events
    .map((e, i) => ({ e, key: e.time + Math.floor((jitters[i % Math.max(1, jitters.length)] ?? 0) * latenessMs) }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.e);
}

/** Partial deltas merged per (family, bucket, tags): what any store would hold. */
export function mergedRows(deltas: readonly PartialDelta[]): Map<string, PartialRow> {
  const rows = new Map<string, PartialRow>();
  for (const d of deltas) {
    const key = `${d.family}|${d.bucket}|${tagKeyOf(d.tags)}`;
    const row = rows.get(key);
    if (row === undefined) {
      rows.set(key, { family: d.family, bucket: d.bucket, tags: { ...d.tags }, fields: { ...d.fields } });
      continue;
    }
    const fields = row.fields as Record<string, number>;
    for (const [f, v] of Object.entries(d.fields)) fields[f] = f.startsWith('max_') ? Math.max(fields[f] ?? v, v) : (fields[f] ?? 0) + v;
  }
  return rows;
}

/** Every KPI of the catalogue over all time, ungrouped, by each tag, and by all its tags. */
export function allKpis(rows: readonly PartialRow[]): Record<string, KpiResult> {
  const out: Record<string, KpiResult> = {};
  for (const def of KPI_CATALOGUE) {
    const groupings: string[][] = [[], ...def.groupTags.map((t) => [t]), [...def.groupTags]];
    for (const g of groupings) out[`${def.name}[${g.join(',')}]`] = evaluateKpi(def, rows, 0, 4_102_444_800_000, g);
  }
  return out;
}

/** A stable hash of an entity id, to split a stream by entity across two engines. */
export function entityHalf(e: HuitianEvent): 0 | 1 {
  const d = e.data as Record<string, unknown>;
  const key = String(d.incidentId ?? d.pointId ?? d.lotId ?? d.lineId);
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return (h & 1) as 0 | 1;
}
