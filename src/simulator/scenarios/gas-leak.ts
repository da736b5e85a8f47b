/**
 * Gas leak, and the ordinary life of the utility networks around it.
 *
 * Ordinary readings: every line's SCADA reports each of its metrics every 10 minutes —
 * water pressure dips and flow rises with the morning and evening demand peaks; power
 * load follows a summer day (air-conditioning in the afternoon and evening); district
 * heating runs hot only in the heating season (15 Nov – 15 Mar, Beijing's statutory
 * season) and idles near ambient otherwise; gas detectors in valve wells read around
 * 1 %LEL. The operators' own systems raise a few alarms a day (a feeder overload, low
 * pressure at the end of a main…), each cleared 10–90 minutes later.
 *
 * The leak: on the one gas line marked `leakDesignPeakPct`, combustible gas in the valve
 * well rises along a smooth S-curve over up to 30 minutes past 20 and 50 %LEL to its
 * design peak, holds while the crew isolates the section, then decays with an 8-minute
 * time constant once the valve is shut. The detector reports every minute above
 * 5 %LEL (alarm mode) and every 5 minutes below. The gas company's SCADA raises its own
 * `LEL-HIGH` alarm at 25 %LEL and clears it below 10 %LEL.
 */
import { DISTRICT, type UtilityLine } from '../district.js';
import type { UtilityMetric, UtilityNetwork, WarningLevel } from '../../events/schemas.js';
import { MinHeap } from '../../time/min-heap.js';
import { clamp, interpolate, rngFor, round, scaledIntervalMs, type ScenarioContext } from '../scenario-context.js';
import { beijingHourOfDay, beijingMonthDay, replicaId, replicaName, SOURCES, seq, type SimEvent } from '../sim-event.js';
import type { Rng } from '../prng.js';

const MINUTE = 60_000;
const READING_INTERVAL_S = 600;
const LEL_QUIET_INTERVAL_S = 300;
const LEL_ALARM_INTERVAL_S = 60;
const LEL_ALARM_MODE_PCT = 5;
const LEAK_ALARM_RAISE_PCT = 25;
const LEAK_ALARM_CLEAR_PCT = 10;
const DECAY_MINUTES = 8;
/** Operators' alarms per day over the whole district (at rate scale 1). */
const ALARMS_PER_DAY = 4;

/** Water demand over the day (1 = daily mean): the morning and evening peaks. */
const DEMAND: ReadonlyArray<readonly [number, number]> = [[0, 0.55], [5, 0.5], [7, 1.35], [9, 1.1], [12, 1.05], [15, 0.95], [19, 1.4], [21, 1.25], [23, 0.75], [24, 0.55]];
/** Summer feeder load over the day (1 = the line's base). */
const SUMMER_LOAD: ReadonlyArray<readonly [number, number]> = [[0, 0.9], [5, 0.75], [9, 1], [14, 1.25], [17, 1.15], [21, 1.35], [24, 0.9]];

interface LineModel {
  id: string;
  name: string;
  network: UtilityNetwork;
  district: string;
  metrics: Array<[UtilityMetric, number]>;
  leak: Leak | null;
}

export interface Leak {
  onset: number;
  peakAt: number;
  valveShutAt: number;
  peakPct: number;
}

/** The leak of a scenario window: about a third of the way in. */
export function leakFor(ctx: ScenarioContext, peakPct: number, rng: Rng): Leak {
  const length = ctx.end - ctx.start;
  const onset = ctx.start + clamp(Math.round(length * 0.35), 15 * MINUTE, 10 * 3600_000) + rng.int(0, 300) * 1000;
  const ramp = Math.min(30 * MINUTE, Math.round(length * 0.2));
  const hold = Math.min(10 * MINUTE, Math.round(length * 0.1));
  return { onset, peakAt: onset + ramp, valveShutAt: onset + ramp + hold, peakPct };
}

/** %LEL added by the leak at time t. */
export function leakLevel(leak: Leak, t: number): number {
  if (t < leak.onset) return 0;
  if (t < leak.peakAt) {
    const x = (t - leak.onset) / (leak.peakAt - leak.onset);
    return leak.peakPct * x * x * (3 - 2 * x); // smoothstep: gas spreads, then saturates the well
  }
  if (t < leak.valveShutAt) return leak.peakPct;
  return leak.peakPct * Math.exp(-(t - leak.valveShutAt) / MINUTE / DECAY_MINUTES);
}

function inHeatingSeason(t: number): boolean {
  const [month, day] = beijingMonthDay(t);
  return month === 12 || month <= 2 || (month === 11 && day >= 15) || (month === 3 && day <= 15);
}

/** A metric's value at time t, before noise. */
function metricValue(line: LineModel, metric: UtilityMetric, base: number, t: number): number {
  const hour = beijingHourOfDay(t);
  const demand = interpolate(DEMAND, hour);
  switch (metric) {
    case 'pressure_mpa': {
      if (line.network === 'heat') return inHeatingSeason(t) ? base : base * 0.6; // static pressure when idle
      const leakDrop = line.leak === null ? 0 : 0.03 * (leakLevel(line.leak, t) / line.leak.peakPct);
      return base * (1 - 0.08 * (demand - 1)) - leakDrop;
    }
    case 'flow_m3h':
      return base * demand;
    case 'load_pct':
      return base * interpolate(SUMMER_LOAD, hour);
    case 'temperature_c':
      return inHeatingSeason(t) ? base - 3 * Math.cos(((hour - 5) / 24) * 2 * Math.PI) : 30 + 3 * Math.sin(((hour - 9) / 24) * 2 * Math.PI);
    case 'gas_lel_pct':
      return base + (line.leak === null ? 0 : leakLevel(line.leak, t));
  }
}

const NOISE: Record<UtilityMetric, number> = { pressure_mpa: 0.004, flow_m3h: 0.03, load_pct: 1.5, temperature_c: 0.5, gas_lel_pct: 0.3 };
const DIGITS: Record<UtilityMetric, number> = { pressure_mpa: 3, flow_m3h: 0, load_pct: 1, temperature_c: 1, gas_lel_pct: 1 };

function noisy(metric: UtilityMetric, value: number, rng: Rng): number {
  const v = metric === 'flow_m3h' ? value * (1 + NOISE.flow_m3h * rng.normal()) : value + NOISE[metric] * rng.normal();
  const lo = metric === 'temperature_c' ? -60 : 0;
  const hi = metric === 'gas_lel_pct' ? 100 : Number.POSITIVE_INFINITY;
  return round(clamp(v, lo, hi), DIGITS[metric]);
}

function reading(line: LineModel, metric: UtilityMetric, t: number, value: number, n: number): SimEvent<'huitian.utility.reading'> {
  return {
    time: t,
    type: 'huitian.utility.reading',
    source: SOURCES.utility,
    id: `${line.id}-${metric}-${seq(n)}`,
    subject: line.id,
    data: { lineId: line.id, network: line.network, metric, value, district: line.district },
  };
}

function alarm(line: LineModel, t: number, code: string, state: 'raised' | 'cleared', level: WarningLevel, message: string, n: number): SimEvent<'huitian.utility.alarm'> {
  return {
    time: t,
    type: 'huitian.utility.alarm',
    source: SOURCES.utility,
    id: `${line.id}-ALM-${seq(n, 4)}`,
    subject: line.id,
    data: { lineId: line.id, network: line.network, code, state, level, message, district: line.district },
  };
}

/** Periodic readings of one metric of one line. */
function* metricReadings(ctx: ScenarioContext, line: LineModel, metric: UtilityMetric, base: number): Generator<SimEvent> {
  const rng = rngFor(ctx, `utility/${line.id}/${metric}`);
  const interval = scaledIntervalMs(ctx, READING_INTERVAL_S);
  let t = ctx.start + Math.floor(rng.next() * (interval / 1000)) * 1000;
  let n = 0;
  while (t < ctx.end) {
    yield reading(line, metric, t, noisy(metric, metricValue(line, metric, base, t), rng), ++n);
    t += interval;
  }
}

/** The gas detector of a valve well: adaptive reporting, and on the leaking line the operator's LEL alarm. */
function* lelReadings(ctx: ScenarioContext, line: LineModel, base: number): Generator<SimEvent> {
  const rng = rngFor(ctx, `utility/${line.id}/gas_lel_pct`);
  const quiet = scaledIntervalMs(ctx, LEL_QUIET_INTERVAL_S);
  const alarmMode = scaledIntervalMs(ctx, LEL_ALARM_INTERVAL_S);
  let t = ctx.start + Math.floor(rng.next() * (quiet / 1000)) * 1000;
  let n = 0;
  let alarms = 0;
  let raised = false;
  while (t < ctx.end) {
    const value = noisy('gas_lel_pct', metricValue(line, 'gas_lel_pct', base, t), rng);
    yield reading(line, 'gas_lel_pct', t, value, ++n);
    if (line.leak !== null && !raised && value >= LEAK_ALARM_RAISE_PCT) {
      raised = true;
      yield alarm(line, t, 'LEL-HIGH', 'raised', 'orange', '阀井可燃气体浓度超限', ++alarms);
    } else if (raised && value < LEAK_ALARM_CLEAR_PCT) {
      raised = false;
      yield alarm(line, t, 'LEL-HIGH', 'cleared', 'orange', '浓度恢复正常', ++alarms);
    }
    t += value >= LEL_ALARM_MODE_PCT ? alarmMode : quiet;
  }
}

const ALARM_KINDS: Record<UtilityNetwork, Array<{ code: string; level: WarningLevel; message: string }>> = {
  water: [
    { code: 'PRESSURE-LOW', level: 'yellow', message: '管网末端压力低于下限' },
    { code: 'FLOW-SURGE', level: 'blue', message: '流量突增，疑似爆管' },
  ],
  power: [
    { code: 'OVERLOAD', level: 'yellow', message: '馈线负载率超过 90%' },
    { code: 'FEEDER-TRIP', level: 'orange', message: '馈线跳闸' },
  ],
  gas: [{ code: 'PRESSURE-HIGH', level: 'yellow', message: '调压箱出口压力偏高' }],
  heat: [{ code: 'LEAK-DETECT', level: 'yellow', message: '补水量异常，疑似泄漏' }],
};

/** The operators' own alarms: a Poisson process over the lines, each alarm cleared later. */
function* operatorAlarms(ctx: ScenarioContext, lines: readonly LineModel[]): Generator<SimEvent> {
  const rng = rngFor(ctx, 'utility/alarms');
  const rate = (ALARMS_PER_DAY * ctx.rateScale) / 86_400_000; // per ms
  const pending = new MinHeap<SimEvent>((a, b) => a.time < b.time || (a.time === b.time && a.id < b.id));
  const counters = new Map<string, number>();
  const busyUntil = new Map<string, number>();
  let next = ctx.start + Math.round(rng.exponential(rate) / 1000) * 1000;
  for (;;) {
    while (pending.size > 0 && pending.peek()!.time <= next) {
      const e = pending.pop()!;
      if (e.time < ctx.end) yield e;
    }
    if (next >= ctx.end) {
      if (pending.size === 0) return;
      next = Number.POSITIVE_INFINITY;
      continue;
    }
    const line = rng.pick(lines);
    const kind = rng.pick(ALARM_KINDS[line.network]);
    const clearAfter = Math.round(rng.uniform(10, 90) * 60) * 1000;
    const key = `${line.id}/${kind.code}`;
    // One alarm per (line, code) at a time: the source system would not raise it twice.
    if ((busyUntil.get(key) ?? Number.NEGATIVE_INFINITY) < next) {
      busyUntil.set(key, next + clearAfter);
      const n = (counters.get(line.id) ?? 0) + 1;
      counters.set(line.id, n + 1);
      // Operator alarm ids are numbered from 5000 so they never meet the leak alarm's.
      yield alarm(line, next, kind.code, 'raised', kind.level, kind.message, 5000 + n);
      pending.push(alarm(line, next + clearAfter, kind.code, 'cleared', kind.level, '已恢复', 5000 + n + 1));
    }
    next += Math.max(1000, Math.round(rng.exponential(rate) / 1000) * 1000);
  }
}

export function lineModels(ctx: ScenarioContext): LineModel[] {
  const models: LineModel[] = [];
  for (let k = 0; k < ctx.copies; k++) for (const line of DISTRICT.utilityLines) models.push(copyOf(ctx, line, k));
  return models;
}

function copyOf(ctx: ScenarioContext, line: UtilityLine, k: number): LineModel {
  const id = replicaId(line.id, k);
  const rng = rngFor(ctx, `utility-copy/${id}`);
  const jitter = k === 0 ? 1 : rng.uniform(0.85, 1.15);
  const metrics = Object.entries(line.metrics).map(([m, v]) => [m as UtilityMetric, (v as number) * (m === 'gas_lel_pct' ? 1 : jitter)] as [UtilityMetric, number]);
  const leak =
    line.leakDesignPeakPct === undefined ? null : leakFor(ctx, k === 0 ? line.leakDesignPeakPct : line.leakDesignPeakPct * rngFor(ctx, `leak/${id}`).uniform(0.9, 1.3), rngFor(ctx, `leak-time/${id}`));
  return { id, name: replicaName(line.name, k), network: line.network, district: line.district, metrics, leak };
}

export function gasLeakSources(ctx: ScenarioContext): Array<Iterable<SimEvent>> {
  const lines = lineModels(ctx);
  const sources: Array<Iterable<SimEvent>> = [];
  for (const line of lines) {
    for (const [metric, base] of line.metrics) {
      sources.push(metric === 'gas_lel_pct' ? lelReadings(ctx, line, base) : metricReadings(ctx, line, metric, base));
    }
  }
  sources.push(operatorAlarms(ctx, lines));
  return sources;
}
