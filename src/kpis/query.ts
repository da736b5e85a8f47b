/**
 * Answers KPI queries from partial rows: sum (or max) the partials, divide last
 * (DESIGN §4). Pure: the stores fetch the rows, this module does the arithmetic, so the
 * embedded store and InfluxDB give the same answers by construction.
 *
 * A 1-minute bucket is in [from, to) when its start is. Gauges are values per sampled
 * minute (merged over the group first); over a range they answer last, max and mean.
 */
import { summaryOfAggregate, type SeriesAggregate } from './gauge-rollups.js';
import { percentileFromFields } from './histogram.js';
import type { GaugeKpi, KpiDefinition } from './kpi-definition.js';
import { BUCKET_MS, escapeTagText, isMaxField, mergeFields, type Fields } from './partials.js';

export interface PartialRow {
  /** When given, rows of other families are ignored. */
  family?: string;
  bucket: number;
  tags: Readonly<Record<string, string>>;
  fields: Readonly<Fields>;
}

export interface GroupValue {
  key: Record<string, string>;
  value: number | null;
  [extra: string]: unknown;
}

export interface KpiResult {
  name: string;
  kind: KpiDefinition['kind'];
  unit: string;
  from: number;
  to: number;
  value: number | null;
  target: number | null;
  meetsTarget: boolean | null;
  groups: GroupValue[];
  [extra: string]: unknown;
}

export function meetsTarget(def: KpiDefinition, value: number | null): boolean | null {
  if (value === null || def.target === null || def.targetDirection === null) return null;
  switch (def.targetDirection) {
    case 'atLeast':
      return value >= def.target;
    case 'atMost':
      return value <= def.target;
    case 'below':
      return value < def.target;
  }
}

/** Value and companion figures of a KPI from fields merged over a range (non-gauge kinds). */
export function summarise(def: Exclude<KpiDefinition, GaugeKpi>, f: Readonly<Fields>): { value: number | null } & Record<string, number | null> {
  switch (def.kind) {
    case 'ratio': {
      const numerator = f[def.numerator] ?? 0;
      let denominator = 0;
      for (const d of def.denominator) denominator += f[d] ?? 0;
      const value = denominator === 0 ? null : numerator / denominator;
      const out: { value: number | null } & Record<string, number | null> = { value, numerator, denominator };
      if (f.unresolved !== undefined) out.unresolved = f.unresolved;
      return out;
    }
    case 'percentile':
      return { value: percentileFromFields(f, def.quantile), count: countOf(f) };
    case 'mean': {
      const sum = f[def.sumField] ?? 0;
      const count = f[def.countField] ?? 0;
      return { value: count === 0 ? null : sum / count, sum, count };
    }
  }
}

function countOf(f: Readonly<Fields>): number {
  let n = 0;
  for (const k in f) if (k.startsWith('rt_le_')) n += f[k]!;
  return n;
}

export interface GaugeSummary {
  value: number | null;
  last: number | null;
  max: number | null;
  mean: number | null;
  samples: number;
}

/**
 * A gauge's mean adds its minute values in millionths (`fixedPoint`): integers, whose sum is
 * exact in any order while it stays below 2^53 (values up to 10^4 over 900,000 minutes), so
 * a store may add them in whatever order it reads them — InfluxDB's per-series `sum()` does
 * not add in time order — and answer the same mean, bit for bit.
 */
export const GAUGE_MEAN_SCALE = 1_000_000;

export function fixedPoint(v: number): number {
  return Math.round(v * GAUGE_MEAN_SCALE);
}

/** The mean of `samples` minute values whose fixedPoint values add up to `fixedSum`. */
export function gaugeMean(fixedSum: number, samples: number): number | null {
  return samples === 0 ? null : fixedSum / GAUGE_MEAN_SCALE / samples;
}

/** last / max / mean over the sampled minutes of one group, in bucket order. */
export function summariseGauge(def: GaugeKpi, minutes: ReadonlyMap<number, Fields>): GaugeSummary {
  const buckets = [...minutes.keys()].sort((a, b) => a - b);
  let last: number | null = null;
  let max: number | null = null;
  let fixedSum = 0;
  let samples = 0;
  for (const b of buckets) {
    const v = def.minuteValue(minutes.get(b)!);
    if (v === null) continue;
    last = v;
    if (max === null || v > max) max = v;
    fixedSum += fixedPoint(v);
    samples++;
  }
  return { value: last, last, max, mean: gaugeMean(fixedSum, samples), samples };
}

function groupKeyOf(tags: Readonly<Record<string, string>>, groupBy: readonly string[]): [string, Record<string, string>] {
  const key: Record<string, string> = {};
  let text = '';
  for (const g of groupBy) {
    const v = tags[g] ?? 'unknown';
    key[g] = v;
    // Escaped as in tag keys, so that a value cannot end its part early (injective).
    text += `${g}\u0002${escapeTagText(v)}\u0001`;
  }
  return [text, key];
}

/** Evaluates a KPI over [from, to), optionally grouped by some of its group tags. */
export function evaluateKpi(def: KpiDefinition, rows: readonly PartialRow[], from: number, to: number, groupBy: readonly string[] = []): KpiResult {
  const inRange = rows.filter((r) => r.bucket >= from && r.bucket < to && (r.family === undefined || r.family === def.family));
  const base = { name: def.name, kind: def.kind, unit: def.unit, from, to, target: def.target };
  if (def.kind === 'gauge') {
    const all = new Map<number, Fields>();
    const groups = new Map<string, { key: Record<string, string>; minutes: Map<number, Fields> }>();
    for (const r of inRange) {
      mergeInto(all, r.bucket, r.fields);
      if (groupBy.length > 0) {
        const [text, key] = groupKeyOf(r.tags, groupBy);
        let g = groups.get(text);
        if (g === undefined) groups.set(text, (g = { key, minutes: new Map() }));
        mergeInto(g.minutes, r.bucket, r.fields);
      }
    }
    const overall = summariseGauge(def, all);
    return {
      ...base,
      ...overall,
      meetsTarget: meetsTarget(def, overall.value),
      groups: [...groups.values()]
        .map((g) => ({ key: g.key, ...summariseGauge(def, g.minutes) }))
        .sort(byKey),
    };
  }
  const total: Fields = {};
  const groups = new Map<string, { key: Record<string, string>; fields: Fields }>();
  for (const r of inRange) {
    mergeFields(total, r.fields);
    if (groupBy.length > 0) {
      const [text, key] = groupKeyOf(r.tags, groupBy);
      let g = groups.get(text);
      if (g === undefined) groups.set(text, (g = { key, fields: {} }));
      mergeFields(g.fields, r.fields);
    }
  }
  const overall = summarise(def, total);
  return {
    ...base,
    ...overall,
    meetsTarget: meetsTarget(def, overall.value),
    groups: [...groups.values()].map((g) => ({ key: g.key, ...summarise(def, g.fields) })).sort(byKey),
  };
}

/**
 * What a store that aggregates per series gives for a gauge grouped by its entity tag
 * (kpis/gauge-rollups.ts): the minutes merged over everything (for the ungrouped figure),
 * aggregates of the groups that one series of one writer wrote, and the minute rows of
 * the other groups.
 */
export interface GaugeParts {
  overall: readonly PartialRow[];
  summarised: ReadonlyArray<{ tags: Readonly<Record<string, string>>; aggregate: SeriesAggregate }>;
  rows: readonly PartialRow[];
}

/** The same answer as evaluateKpi over every minute row, from a store's GaugeParts. */
export function evaluateGaugeParts(def: GaugeKpi, parts: GaugeParts, from: number, to: number, groupBy: readonly string[]): KpiResult {
  const overall = evaluateKpi(def, parts.overall, from, to, []);
  const grouped = evaluateKpi(def, parts.rows, from, to, groupBy);
  const groups: GroupValue[] = [...grouped.groups];
  for (const s of parts.summarised) groups.push({ key: groupKeyOf(s.tags, groupBy)[1], ...summaryOfAggregate(s.aggregate) });
  return { ...overall, groups: groups.sort(byKey) };
}

function mergeInto(m: Map<number, Fields>, bucket: number, fields: Readonly<Fields>): void {
  const existing = m.get(bucket);
  if (existing === undefined) m.set(bucket, { ...fields });
  else mergeFields(existing, fields);
}

function byKey(a: GroupValue, b: GroupValue): number {
  const ka = JSON.stringify(a.key);
  const kb = JSON.stringify(b.key);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export interface SeriesPoint {
  /** End of the window (exclusive), which is the point's timestamp. */
  at: number;
  from: number;
  value: number | null;
  [extra: string]: unknown;
}

/**
 * One point per step: point k is the KPI over the trailing window that ends at
 * from + (k+1)·step. Sum fields slide (add the entering minute, subtract the leaving
 * one), so a 24 h window at a 1-minute step costs the same as a 1-minute window.
 */
export function kpiSeries(def: KpiDefinition, rows: readonly PartialRow[], from: number, to: number, stepMs: number, windowMs: number): SeriesPoint[] {
  const perMinute = new Map<number, Fields>();
  for (const r of rows) if (r.family === undefined || r.family === def.family) mergeInto(perMinute, r.bucket, r.fields);
  const points: SeriesPoint[] = [];
  if (def.kind === 'gauge') {
    for (let end = from + stepMs; end <= to; end += stepMs) {
      const window = new Map<number, Fields>();
      for (let b = alignUp(end - windowMs); b < end; b += BUCKET_MS) {
        const f = perMinute.get(b);
        if (f !== undefined) window.set(b, f);
      }
      const s = summariseGauge(def, window);
      points.push({ at: end, from: end - windowMs, ...s });
    }
    return points;
  }
  const running: Fields = {};
  // Buckets (minute starts) in [lo, hi) are in `running`.
  let lo = alignUp(from + stepMs - windowMs);
  let hi = lo;
  for (let end = from + stepMs; end <= to; end += stepMs) {
    const start = end - windowMs;
    if (hi < lo) hi = lo;
    for (; hi < end; hi += BUCKET_MS) add(running, perMinute.get(hi), 1);
    for (; lo < start; lo += BUCKET_MS) add(running, perMinute.get(lo), -1);
    points.push({ at: end, from: start, ...summarise(def, running) });
  }
  return points;
}

function add(into: Fields, f: Readonly<Fields> | undefined, sign: 1 | -1): void {
  if (f === undefined) return;
  for (const k in f) {
    if (isMaxField(k)) continue; // only gauges carry max fields, and they do not slide
    const v = (into[k] ?? 0) + sign * f[k]!;
    // Keep zero-crossing float noise out of counts.
    into[k] = Math.abs(v) < 1e-9 ? 0 : v;
  }
}

function alignUp(t: number): number {
  return Math.ceil(t / BUCKET_MS) * BUCKET_MS;
}
