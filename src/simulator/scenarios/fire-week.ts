/**
 * Fire week: 119 incidents and the response to them.
 *
 * Calls arrive as a non-homogeneous Poisson process (simulated by thinning) whose rate
 * follows a daily rhythm — few calls before dawn, peaks around the midday and evening
 * cooking hours — at 24 calls a day for the district's ~0.9 million people at rate
 * scale 1 (about 19 per 100 000 people a week). The shapes and rates are illustrative,
 * not taken from 119 statistics.
 *
 * Each call: received → dispatched (call handling, log-normal with a median of 50 s;
 * NFPA 1710 allows 60–64 s) → each unit arrives after its turnout (median 60 s: the
 * 5 minutes of 建标152 are commonly split into 1 to turn out and 4 to drive) and its
 * drive from its station to the scene: 1.3 × the straight-line distance (the street
 * grid) at 40 km/h, 26 km/h in the rush hours (the district's notorious congestion),
 * 48 km/h at night, with log-normal spread. So the first arrival depends on the nearest
 * station and the hour, and far calls in the rush hour pass 300 s. Some calls are closed before any unit arrives
 * (cancelled, false alarm), a few see no arrival at all (units diverted to a more urgent
 * call, the incident closed later), a few are closed as false alarms without dispatch,
 * and one in two hundred is logged and never touched again. Otherwise the incident is
 * closed some time after the last arrival.
 */
import { DISTRICT, distanceKm, type FireStation } from '../district.js';
import type { IncidentCategory } from '../../events/schemas.js';
import { MinHeap } from '../../time/min-heap.js';
import type { Rng } from '../prng.js';
import { clamp, rngFor, round, type ScenarioContext } from '../scenario-context.js';
import { beijingDateCompact, beijingHourOfDay, SOURCES, type SimEvent } from '../sim-event.js';

const CALLS_PER_DAY = 24;
/** Relative call rate by Beijing hour (normalised below). */
const HOURLY = [0.55, 0.45, 0.4, 0.35, 0.35, 0.45, 0.65, 0.85, 1, 1.1, 1.2, 1.3, 1.3, 1.2, 1.15, 1.2, 1.3, 1.45, 1.5, 1.45, 1.35, 1.2, 0.95, 0.75];
const HOURLY_MEAN = HOURLY.reduce((a, b) => a + b, 0) / HOURLY.length;
const HOURLY_MAX = Math.max(...HOURLY) / HOURLY_MEAN;

const CATEGORIES: readonly IncidentCategory[] = ['fire', 'rescue', 'medical', 'hazmat', 'other'];
const CATEGORY_WEIGHTS = [0.3, 0.42, 0.08, 0.04, 0.16];
/** Median minutes from the last arrival to closing the incident. */
const ON_SCENE_MINUTES: Record<IncidentCategory, number> = { fire: 45, rescue: 25, medical: 20, hazmat: 60, other: 15 };

const ROAD_FACTOR = 1.3;

function speedKmh(t: number): number {
  const h = beijingHourOfDay(t);
  if ((h >= 7 && h < 9.5) || (h >= 17 && h < 19.5)) return 26;
  if (h >= 23 || h < 5) return 48;
  return 40;
}

function rhythm(t: number): number {
  return HOURLY[Math.floor(beijingHourOfDay(t))]! / HOURLY_MEAN;
}

type Course = 'normal' | 'cancelled-before-arrival' | 'no-arrival' | 'not-dispatched' | 'left-open';

interface Unit {
  unitId: string;
  station: FireStation;
  dispatchedAt: number;
  arrivesAt: number;
}

/** One incident's events, in time order (ties keep the order they were created in). */
function incidentEvents(rng: Rng, incidentId: string, received: number): Array<SimEvent> {
  const category = CATEGORIES[rng.weighted(CATEGORY_WEIGHTS)]!;
  const district = DISTRICT.districts[rng.weighted(DISTRICT.districts.map((d) => d.populationWeight))]!;
  const lon = round(district.lon + rng.uniform(-0.012, 0.012), 5);
  const lat = round(district.lat + rng.uniform(-0.008, 0.008), 5);
  const stations = [...DISTRICT.fireStations].sort((a, b) => distanceKm(a.lon, a.lat, lon, lat) - distanceKm(b.lon, b.lat, lon, lat));
  const firstDue = stations[0]!;
  const u = rng.next();
  const course: Course =
    u < 0.005 ? 'left-open' : u < 0.02 ? 'not-dispatched' : u < 0.08 ? 'cancelled-before-arrival' : u < 0.105 ? 'no-arrival' : 'normal';

  const src = SOURCES.dispatch;
  const events: SimEvent[] = [
    {
      time: received,
      type: 'huitian.dispatch.received',
      source: src,
      id: `${incidentId}-received`,
      subject: incidentId,
      data: { incidentId, category, district: district.name, station: firstDue.name, lon, lat },
    },
  ];
  const close = (at: number, reason: 'completed' | 'cancelled' | 'false_alarm') =>
    events.push({ time: at, type: 'huitian.dispatch.closed', source: src, id: `${incidentId}-closed`, subject: incidentId, data: { incidentId, reason } });

  // A repeat call about a known incident, logged and never dispatched nor closed: the
  // service must evict it after 24 h and count it as unresolved, not keep it forever.
  if (course === 'left-open') return events;
  if (course === 'not-dispatched') {
    close(received + rng.int(60, 240) * 1000, 'false_alarm');
    return events;
  }

  // Call handling, then the units: the first-due station always; more for fires and hazmat.
  const firstDispatch = received + Math.round(clamp(rng.logNormal(50, 0.4), 15, 240)) * 1000;
  const picks: Array<[FireStation, number]> = [[firstDue, 1]];
  if (category === 'fire' || category === 'hazmat') picks.push([stations[1]!, 1]);
  if ((category === 'fire' && rng.chance(0.3)) || (category === 'rescue' && rng.chance(0.35))) picks.push([firstDue, Math.min(2, firstDue.units)]);
  const units: Unit[] = picks.map(([station, n], i) => {
    const dispatchedAt = i === 0 || rng.chance(0.7) ? firstDispatch : firstDispatch + rng.int(30, 180) * 1000;
    const turnout = clamp(rng.logNormal(60, 0.3), 20, 180);
    const km = ROAD_FACTOR * distanceKm(station.lon, station.lat, lon, lat);
    const drive = ((km / speedKmh(dispatchedAt)) * 3600 * rng.logNormal(1, 0.25));
    return { unitId: `${station.id}-${n}`, station, dispatchedAt, arrivesAt: dispatchedAt + Math.round(turnout + drive) * 1000 };
  });
  for (const unit of units) {
    events.push({
      time: unit.dispatchedAt,
      type: 'huitian.dispatch.dispatched',
      source: src,
      id: `${incidentId}-dispatched-${unit.unitId}`,
      subject: incidentId,
      data: { incidentId, unitId: unit.unitId, station: unit.station.name },
    });
  }
  const firstArrival = Math.min(...units.map((x) => x.arrivesAt));
  let closedAt: number;
  let reason: 'completed' | 'cancelled' | 'false_alarm';
  if (course === 'cancelled-before-arrival') {
    closedAt = firstDispatch + rng.int(30, 270) * 1000;
    reason = rng.chance(0.5) ? 'cancelled' : 'false_alarm';
  } else if (course === 'no-arrival') {
    closedAt = firstDispatch + rng.int(600, 2400) * 1000;
    reason = 'cancelled';
  } else if (rng.chance(0.1)) {
    // Found to be a false alarm on scene: the crew checks the premises first.
    closedAt = firstArrival + rng.int(300, 900) * 1000;
    reason = 'false_alarm';
  } else {
    const lastArrival = Math.max(...units.map((x) => x.arrivesAt));
    closedAt = lastArrival + Math.round(rng.logNormal(ON_SCENE_MINUTES[category], 0.5) * 60) * 1000;
    reason = 'completed';
  }
  if (course !== 'no-arrival') {
    // Units still on the way when the incident is closed turn back.
    for (const unit of units) {
      if (unit.arrivesAt < closedAt) {
        events.push({ time: unit.arrivesAt, type: 'huitian.dispatch.arrived', source: src, id: `${incidentId}-arrived-${unit.unitId}`, subject: incidentId, data: { incidentId, unitId: unit.unitId } });
      }
    }
  }
  close(closedAt, reason);
  return events;
}

interface Pending {
  event: SimEvent;
  order: number;
}

/** All incidents of the window, in time order; events after the window's end are cut. */
function* incidents(ctx: ScenarioContext): Generator<SimEvent> {
  const rng = rngFor(ctx, 'dispatch/incidents');
  const maxRate = (CALLS_PER_DAY * ctx.rateScale * HOURLY_MAX) / 86_400_000; // per ms
  const pending = new MinHeap<Pending>((a, b) => a.event.time < b.event.time || (a.event.time === b.event.time && a.order < b.order));
  let order = 0;
  let count = 0;
  let candidate = ctx.start;
  for (;;) {
    candidate += Math.max(1000, Math.round(rng.exponential(maxRate) / 1000) * 1000);
    const next = candidate < ctx.end ? candidate : Number.POSITIVE_INFINITY;
    while (pending.size > 0 && pending.peek()!.event.time <= next) {
      const p = pending.pop()!;
      if (p.event.time < ctx.end) yield p.event;
    }
    if (next === Number.POSITIVE_INFINITY) return;
    // Thinning (Lewis–Shedler): accept a candidate with probability rate(t) / max rate.
    if (!rng.chance(rhythm(candidate) / HOURLY_MAX)) continue;
    count++;
    const incidentId = `INC-${beijingDateCompact(candidate)}-${String(count).padStart(5, '0')}`;
    for (const event of incidentEvents(rng, incidentId, candidate)) pending.push({ event, order: order++ });
  }
}

export function fireWeekSources(ctx: ScenarioContext): Array<Iterable<SimEvent>> {
  return [incidents(ctx)];
}
