/**
 * Rainstorm: a design storm drives the water depth at each low point.
 *
 * Rainfall follows a Chicago hyetograph (芝加哥雨型, the design-storm shape of Chinese
 * drainage design) built on Beijing's storm-intensity formula for zone I (as in the
 * city's drainage design standard DB11/685):
 * q = 2001(1 + 0.811 lg P) / (t + 8)^0.711 L/(s·ha), here for a
 * 20-year return period with the peak at 40 % of the storm (r = 0.4). Its instantaneous
 * peak is about 5.6 mm/min and it drops some 100 mm in three hours — a storm of the
 * kind of 7·21 (2012), whose anniversary the default start date is.
 *
 * Each low point ponds the rain its drains cannot carry (intensity above
 * `drainageMmPerMin`) and loses water exponentially (`drainMinutes`, pumps and
 * seepage): dD/dt = k·max(0, i − c) − D/τ. The gain k is calibrated so that the point
 * peaks at its `designPeakCm` in this storm, which is how the data file says which
 * points pass 15, 27 and 40 cm. Sensors report every 5 minutes while dry and every
 * minute while it rains or water stands (the adaptive reporting of battery IoT gauges).
 */
import { DISTRICT, type WaterloggingPoint } from '../district.js';
import { clamp, rngFor, round, scaledIntervalMs, type ScenarioContext } from '../scenario-context.js';
import { replicaId, replicaName, SOURCES, seq, type SimEvent } from '../sim-event.js';

const MINUTE = 60_000;
/** Beijing zone I: A1 = 2001 L/(s·ha) = 12.0 mm/min (1 mm/min = 166.7 L/(s·ha)). */
const A1_MM_PER_MIN = 2001 / 166.7;
const C = 0.811;
const B_MIN = 8;
const N = 0.711;
const RETURN_PERIOD_YEARS = 20;
const PEAK_FRACTION = 0.4;
/** Integration step of the ponding model. */
const STEP_MS = 10_000;
const DRY_INTERVAL_S = 300;
const WET_INTERVAL_S = 60;
/** Below this the gauge reads 0 (ultrasonic gauges have a dead band of a few mm). */
const DEAD_BAND_CM = 0.5;
const NOISE_CM = 0.3;

export interface Storm {
  onset: number;
  durationMs: number;
}

/** The storm of a scenario window: it starts a tenth of the way in and lasts up to 3 h. */
export function stormFor(ctx: ScenarioContext): Storm {
  const length = ctx.end - ctx.start;
  const onset = ctx.start + clamp(Math.round(length * 0.1), 10 * MINUTE, 6 * 3600_000);
  return { onset, durationMs: Math.min(3 * 3600_000, Math.round(length * 0.5)) };
}

/** Rain intensity (mm/min) at time t of the Chicago hyetograph. */
export function rainIntensity(storm: Storm, t: number): number {
  if (t < storm.onset || t >= storm.onset + storm.durationMs) return 0;
  const a = A1_MM_PER_MIN * (1 + C * Math.log10(RETURN_PERIOD_YEARS));
  const peak = storm.onset + PEAK_FRACTION * storm.durationMs;
  if (t < peak) {
    const tb = (peak - t) / MINUTE / PEAK_FRACTION;
    return (a * ((1 - N) * tb + B_MIN)) / (tb + B_MIN) ** (1 + N);
  }
  const ta = (t - peak) / MINUTE / (1 - PEAK_FRACTION);
  return (a * ((1 - N) * ta + B_MIN)) / (ta + B_MIN) ** (1 + N);
}

interface PointModel {
  id: string;
  name: string;
  district: string;
  peakCm: number;
  drainMinutes: number;
  drainage: number;
}

/** Depth (cm) of one point over time, integrated forward on a fixed grid from the storm onset. */
class Ponding {
  private t: number;
  private depth = 0;
  private readonly decay: number;

  constructor(
    private readonly storm: Storm,
    private readonly drainage: number,
    drainMinutes: number,
    private readonly gain: number,
  ) {
    this.t = storm.onset;
    this.decay = Math.exp(-STEP_MS / MINUTE / drainMinutes);
  }

  /** Depth at the last grid point ≤ t (t never goes back). */
  at(t: number): number {
    const stepMin = STEP_MS / MINUTE;
    const stormEnd = this.storm.onset + this.storm.durationMs;
    if (this.t >= stormEnd && this.t + STEP_MS <= t) {
      // After the storm the water only drains: k steps of decay at once.
      const k = Math.floor((t - this.t) / STEP_MS);
      this.depth = this.depth < 1e-6 ? 0 : this.depth * this.decay ** k;
      this.t += k * STEP_MS;
    }
    while (this.t + STEP_MS <= t) {
      const excess = rainIntensity(this.storm, this.t) - this.drainage;
      this.depth = this.depth * this.decay + (excess > 0 ? this.gain * excess * stepMin : 0);
      this.t += STEP_MS;
    }
    return this.depth;
  }

  raining(t: number): boolean {
    return t >= this.storm.onset && t < this.storm.onset + this.storm.durationMs;
  }
}

/** Peak depth of a point with unit gain in this storm: the calibration of k. */
function unitPeak(storm: Storm, drainage: number, drainMinutes: number): number {
  const p = new Ponding(storm, drainage, drainMinutes, 1);
  let peak = 0;
  const until = storm.onset + storm.durationMs + STEP_MS;
  for (let t = storm.onset; t <= until; t += STEP_MS) peak = Math.max(peak, p.at(t));
  return peak;
}

function* pointReadings(ctx: ScenarioContext, storm: Storm, m: PointModel): Generator<SimEvent<'huitian.waterlogging.reading'>> {
  const rng = rngFor(ctx, `waterlogging/${m.id}`);
  const unit = unitPeak(storm, m.drainage, m.drainMinutes);
  const ponding = new Ponding(storm, m.drainage, m.drainMinutes, unit > 0 ? m.peakCm / unit : 0);
  const dry = scaledIntervalMs(ctx, DRY_INTERVAL_S);
  const wet = scaledIntervalMs(ctx, WET_INTERVAL_S);
  let t = ctx.start + Math.floor(rng.next() * (dry / 1000)) * 1000;
  let n = 0;
  while (t < ctx.end) {
    const depth = ponding.at(t);
    const noise = rng.normal() * NOISE_CM;
    const reading = depth < DEAD_BAND_CM ? 0 : round(Math.max(0, depth + noise), 1);
    yield {
      time: t,
      type: 'huitian.waterlogging.reading',
      source: SOURCES.waterlogging,
      id: `${m.id}-${seq(++n)}`,
      subject: m.id,
      data: { pointId: m.id, depthCm: reading, district: m.district, name: m.name },
    };
    t += ponding.raining(t) || depth >= DEAD_BAND_CM ? wet : dry;
  }
}

/** Every point (and its rate-scale copies, with their own sensitivities). */
export function waterloggingModels(ctx: ScenarioContext): PointModel[] {
  const models: PointModel[] = [];
  for (let k = 0; k < ctx.copies; k++) {
    for (const p of DISTRICT.waterloggingPoints) models.push(copyOf(ctx, p, k));
  }
  return models;
}

function copyOf(ctx: ScenarioContext, p: WaterloggingPoint, k: number): PointModel {
  const id = replicaId(p.id, k);
  if (k === 0) {
    return { id, name: p.name, district: p.district, peakCm: p.designPeakCm, drainMinutes: p.drainMinutes, drainage: p.drainageMmPerMin };
  }
  // A copy is another gauge near the same low point: similar, not identical.
  const rng = rngFor(ctx, `waterlogging-copy/${id}`);
  return {
    id,
    name: replicaName(p.name, k),
    district: p.district,
    peakCm: p.designPeakCm * rng.uniform(0.75, 1.2),
    drainMinutes: p.drainMinutes * rng.uniform(0.8, 1.25),
    drainage: p.drainageMmPerMin * rng.uniform(0.9, 1.1),
  };
}

export function rainstormSources(ctx: ScenarioContext): Array<Iterable<SimEvent>> {
  const storm = stormFor(ctx);
  return waterloggingModels(ctx).map((m) => pointReadings(ctx, storm, m));
}
