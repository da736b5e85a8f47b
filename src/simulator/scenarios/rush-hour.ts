/**
 * Rush hour: parking occupancy over the commuting day.
 *
 * Each lot follows the daily curve of its kind, scaled by its `peakLevel`:
 * park-and-ride lots at the Line 13 / Changping Line / Line 5 stations fill between
 * 06:00 and 07:40 and empty after 17:30 (回天's commuters drive to the subway and leave
 * early for 中关村, 上地 and the CBD); offices fill at 09:00; malls peak in the
 * afternoon and at 19:30, more at weekends; residential lots are full at night and half
 * empty by day (the district's chronic shortage of night parking). The curves are illustrative shapes, not measurements. On top rides a
 * slowly varying disturbance (an AR(1) process with a 10-minute memory, σ 0.6 %),
 * because occupancy moves with queues at the gate, not as white noise. Guidance
 * systems push each lot's count every 2 minutes.
 *
 * Clean alert runs: a lot either stays at ≥ 95 % for at least 12 minutes or its
 * readings at ≥ 95 % are held just below (94 %). A run of 4–6 minutes would make "full
 * for 5 minutes" hinge on a single reading, and a test of the service against the
 * truth would then measure rounding at the edge of the rule rather than the rule.
 */
import { DISTRICT, type ParkingLot, type ParkingProfile } from '../district.js';
import { clamp, interpolate, rngFor, scaledIntervalMs, type ScenarioContext } from '../scenario-context.js';
import { beijingDayOfWeek, beijingHourOfDay, replicaId, replicaName, SOURCES, seq, type SimEvent } from '../sim-event.js';

type Curve = ReadonlyArray<readonly [hour: number, level: number]>;

const WEEKDAY: Record<ParkingProfile, Curve> = {
  'park-and-ride': [[0, 0.08], [5.5, 0.1], [6.3, 0.3], [7, 0.75], [7.6, 1], [17, 1], [18.5, 0.6], [20, 0.25], [22, 0.12], [24, 0.08]],
  office: [[0, 0.05], [7.5, 0.1], [9, 0.85], [10, 1], [17, 1], [18.5, 0.5], [20, 0.15], [24, 0.05]],
  mall: [[0, 0.1], [9, 0.12], [10, 0.35], [12, 0.7], [14, 0.9], [16, 0.88], [18, 0.85], [19.5, 1], [21, 0.6], [22.5, 0.2], [24, 0.1]],
  residential: [[0, 1], [6, 1], [7, 0.85], [8.5, 0.5], [10, 0.45], [17, 0.5], [18.5, 0.7], [20, 0.92], [21.5, 1], [24, 1]],
};

const WEEKEND: Record<ParkingProfile, Curve> = {
  'park-and-ride': [[0, 0.06], [8, 0.1], [12, 0.3], [18, 0.25], [24, 0.06]],
  office: [[0, 0.05], [9, 0.1], [12, 0.25], [17, 0.2], [24, 0.05]],
  mall: [[0, 0.1], [9, 0.15], [10, 0.45], [12, 0.85], [14, 1], [16, 1], [18, 0.9], [19.5, 1], [21, 0.7], [22.5, 0.25], [24, 0.1]],
  residential: [[0, 1], [8, 1], [10, 0.75], [15, 0.7], [18, 0.85], [20, 0.97], [24, 1]],
};

const INTERVAL_S = 120;
const NOISE_SIGMA = 0.006;
const NOISE_MEMORY_MIN = 10;
/** Lots may exceed capacity a little (cars on aisles), never by more than this. */
const MAX_RATIO = 1.06;

export const FULL_RATIO = 0.95;
/** Runs at ≥ 95 % shorter than this are held at 94 % (see the module comment). */
export const MIN_FULL_RUN_MS = 12 * 60_000;
const HELD_RATIO = 0.94;

interface LotModel {
  id: string;
  name: string;
  district: string;
  capacity: number;
  profile: ParkingProfile;
  peakLevel: number;
}

export function lotLevel(profile: ParkingProfile, peakLevel: number, t: number): number {
  const day = beijingDayOfWeek(t);
  const curves = day === 0 || day === 6 ? WEEKEND : WEEKDAY;
  return peakLevel * interpolate(curves[profile], beijingHourOfDay(t));
}

function* rawReadings(ctx: ScenarioContext, m: LotModel): Generator<SimEvent<'huitian.parking.occupancy'>> {
  const rng = rngFor(ctx, `parking/${m.id}`);
  const interval = scaledIntervalMs(ctx, INTERVAL_S);
  const rho = Math.exp(-interval / 60_000 / NOISE_MEMORY_MIN);
  const innovation = NOISE_SIGMA * Math.sqrt(1 - rho * rho);
  let noise = rng.normal() * NOISE_SIGMA;
  let t = ctx.start + Math.floor(rng.next() * (interval / 1000)) * 1000;
  let n = 0;
  while (t < ctx.end) {
    const ratio = clamp(lotLevel(m.profile, m.peakLevel, t) + noise, 0, MAX_RATIO);
    yield {
      time: t,
      type: 'huitian.parking.occupancy',
      source: SOURCES.parking,
      id: `${m.id}-${seq(++n)}`,
      subject: m.id,
      data: { lotId: m.id, capacity: m.capacity, occupied: Math.round(ratio * m.capacity), district: m.district, name: m.name },
    };
    noise = rho * noise + innovation * rng.normal();
    t += interval;
  }
}

function isFull(e: SimEvent<'huitian.parking.occupancy'>): boolean {
  return e.data.occupied / e.data.capacity >= FULL_RATIO;
}

/** Holds back a run of full readings until it has lasted MIN_FULL_RUN_MS; a shorter run is flattened. */
export function* cleanFullRuns(readings: Iterable<SimEvent<'huitian.parking.occupancy'>>): Generator<SimEvent<'huitian.parking.occupancy'>> {
  let run: Array<SimEvent<'huitian.parking.occupancy'>> = [];
  let long = false;
  const flattened = function* () {
    for (const e of run) yield { ...e, data: { ...e.data, occupied: Math.floor(HELD_RATIO * e.data.capacity) } };
    run = [];
  };
  for (const e of readings) {
    if (isFull(e)) {
      if (long) {
        yield e;
        continue;
      }
      run.push(e);
      if (e.time - run[0]!.time >= MIN_FULL_RUN_MS) {
        yield* run;
        run = [];
        long = true;
      }
      continue;
    }
    long = false;
    if (run.length > 0) yield* flattened();
    yield e;
  }
  if (run.length > 0) yield* flattened();
}

export function lotModels(ctx: ScenarioContext): LotModel[] {
  const models: LotModel[] = [];
  for (let k = 0; k < ctx.copies; k++) for (const lot of DISTRICT.parkingLots) models.push(copyOf(ctx, lot, k));
  return models;
}

function copyOf(ctx: ScenarioContext, lot: ParkingLot, k: number): LotModel {
  const id = replicaId(lot.id, k);
  const base = { id, name: replicaName(lot.name, k), district: lot.district, capacity: lot.capacity, profile: lot.profile, peakLevel: lot.peakLevel };
  if (k === 0) return base;
  // A copy is a neighbouring lot of the same kind: another size, a slightly different peak.
  const rng = rngFor(ctx, `parking-copy/${id}`);
  return { ...base, capacity: Math.max(50, Math.round(lot.capacity * rng.uniform(0.5, 1.5))), peakLevel: clamp(lot.peakLevel + rng.uniform(-0.06, 0.04), 0.3, 1.03) };
}

export function rushHourSources(ctx: ScenarioContext): Array<Iterable<SimEvent>> {
  return lotModels(ctx).map((m) => cleanFullRuns(rawReadings(ctx, m)));
}
