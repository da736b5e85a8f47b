/**
 * The partial table of a cluster task (docs/cluster.md §3): KPI partials kept as
 * **absolute** values per (family, bucket, tags), so what the task writes to a sink keyed
 * by (KPI, bucket, tags, writer) overwrites instead of adding, and a task restored from a
 * checkpoint rewrites exactly the values the previous owner wrote after it.
 *
 * Deltas are applied one by one, in the order the KPI modules produce them, never merged
 * per step first: floating-point sums (`rt_sum`, `ack_seconds_sum`) then come out
 * bit-identical whatever the batch boundaries of a first read and a re-read.
 *
 * Only keys a later input can still change are kept (and checkpointed): `fire_response`
 * buckets are decided up to 24 h after the minute they are attributed to, `alert_ack`
 * buckets take acknowledgements stamped at the stream's clock. Gauge families are sampled
 * once per minute after the watermark passed it, so their keys are final when written.
 */
import { STALE_ENTITY_MS } from './step-context.js';
import { KPI_CATALOGUE } from '../kpis/catalogue.js';
import { GAUGE_FAMILIES, rollupFamilies } from '../kpis/gauge-rollups.js';
import { mergeField, PartialBuffer, seriesOf, type Fields, type PartialDelta, type Series, type Tags } from '../kpis/partials.js';

/**
 * Families whose every KPI is a gauge, and their rollups (kpis/gauge-rollups.ts): a key is
 * written once, when its minute is sampled.
 */
export const FINAL_FAMILIES: ReadonlySet<string> = (() => {
  const kinds = new Map<string, Set<string>>();
  for (const k of KPI_CATALOGUE) {
    const set = kinds.get(k.family) ?? new Set<string>();
    set.add(k.kind);
    kinds.set(k.family, set);
  }
  const gauges = [...kinds].filter(([, set]) => set.size === 1 && set.has('gauge')).map(([family]) => family);
  const rollups = gauges.flatMap((f) => (GAUGE_FAMILIES.has(f) ? rollupFamilies(GAUGE_FAMILIES.get(f)!).map((r) => r.family) : []));
  return new Set([...gauges, ...rollups]);
})();

/**
 * How far behind the watermark a mutable key may still be changed. Fire incidents are
 * decided or evicted (as `unresolved`) at most 24 h after they were received, into the
 * received minute; acknowledgements are stamped at or after the newest event time. The
 * margin covers the bucket's own minute and the allowed lateness.
 */
const HORIZON_MS: Record<string, number> = { alert_ack: 10 * 60_000 };
const DEFAULT_HORIZON_MS = STALE_ENTITY_MS + 10 * 60_000;

export function horizonOf(family: string): number {
  return HORIZON_MS[family] ?? DEFAULT_HORIZON_MS;
}

interface Entry {
  family: string;
  bucket: number;
  tags: Tags;
  tagKey: string;
  fields: Fields;
}

export interface TaskPartialsSnapshot {
  entries: Array<[family: string, bucket: number, tagKey: string, tags: Tags, fields: Fields]>;
}

export class TaskPartials extends PartialBuffer {
  /** Mutable keys within their horizon, by `family|tagKey|bucket`. */
  private readonly table = new Map<string, Entry>();
  /** The same entries by `family|bucket`, then tag key: a bucket's whole content, for bucket records. */
  private readonly byBucket = new Map<string, Map<string, Entry>>();
  /** Keys written in this step, in the order first written. */
  private touched = new Map<string, Entry>();
  /** Gauge samples of this step (addSample). */
  private samples: PartialDelta[] = [];
  /** Deltas to a mutable key that had already left the table: must stay 0 (a bug otherwise). */
  retouched = 0;
  private evictedBefore = new Map<string, number>();

  override add(family: string, bucket: number, tags: Tags, fields: Readonly<Fields>): void {
    this.addTo(seriesOf(family, tags), bucket, fields);
  }

  override addTo(series: Series, bucket: number, fields: Readonly<Fields>): void {
    const key = `${series.id}|${bucket}`;
    const final = FINAL_FAMILIES.has(series.family);
    let entry = this.touched.get(key) ?? (final ? undefined : this.table.get(key));
    if (entry === undefined) {
      if (!final && bucket < (this.evictedBefore.get(series.family) ?? Number.NEGATIVE_INFINITY)) this.retouched++;
      entry = { family: series.family, bucket, tags: series.tags, tagKey: series.tagKey, fields: {} };
      if (!final) this.keep(key, entry);
    }
    const into = entry.fields;
    for (const f in fields) {
      const v = fields[f]!;
      const prev = into[f];
      into[f] = prev === undefined ? v : mergeField(f, prev, v);
    }
    this.touched.set(key, entry);
  }

  private keep(key: string, e: Entry): void {
    this.table.set(key, e);
    const b = `${e.family}|${e.bucket}`;
    let m = this.byBucket.get(b);
    if (m === undefined) this.byBucket.set(b, (m = new Map()));
    m.set(e.tagKey, e);
  }

  /**
   * Every key of a mutable family's bucket that the table holds, with its absolute fields
   * (undefined for a gauge family or a bucket not held). A bucket's keys enter the table as
   * they are first written and leave it together (eviction is per bucket), so while a later
   * input can still change the bucket this is all the task ever wrote into it.
   */
  bucketEntries(family: string, bucket: number): ReadonlyMap<string, { fields: Fields }> | undefined {
    return this.byBucket.get(`${family}|${bucket}`);
  }

  /**
   * A gauge's sample of one series for one minute: taken once, in one step, so it needs no
   * key (a key string per sampled series was 4 % of a cluster member's CPU on the benchmark
   * stream), and its fields object is the gauge's own, which the gauge replaces instead of
   * changing, so it is passed on as it is (as PartialBuffer does).
   */
  override addSample(series: Series, bucket: number, fields: Fields): void {
    this.samples.push({ family: series.family, bucket, tags: series.tags, tagKey: series.tagKey, fields });
  }

  override get size(): number {
    return this.touched.size + this.samples.length;
  }

  /** The absolute values of every key written since the last drain (the keyed ones, then the samples). */
  override drain(): PartialDelta[] {
    if (this.touched.size === 0 && this.samples.length === 0) return [];
    const out: PartialDelta[] = [];
    for (const e of this.touched.values()) out.push({ family: e.family, bucket: e.bucket, tags: e.tags, tagKey: e.tagKey, fields: { ...e.fields } });
    this.touched = new Map();
    if (this.samples.length > 0) {
      for (const d of this.samples) out.push(d);
      this.samples = [];
    }
    return out;
  }

  /** Forgets keys no input can change any more, given the task's watermark (bucket by bucket: a bucket's keys leave together). */
  evict(watermark: number): void {
    if (!Number.isFinite(watermark)) return;
    for (const [b, entries] of this.byBucket) {
      const first = entries.values().next().value;
      if (first === undefined) continue;
      const limit = watermark - horizonOf(first.family);
      if (first.bucket >= limit) continue;
      for (const e of entries.values()) this.table.delete(`${e.family}|${e.tagKey}|${e.bucket}`);
      this.byBucket.delete(b);
      if (limit > (this.evictedBefore.get(first.family) ?? Number.NEGATIVE_INFINITY)) this.evictedBefore.set(first.family, limit);
    }
  }

  get tableSize(): number {
    return this.table.size;
  }

  snapshot(): TaskPartialsSnapshot & { evictedBefore: Array<[string, number]> } {
    return {
      entries: [...this.table.values()].map((e) => [e.family, e.bucket, e.tagKey, e.tags, { ...e.fields }]),
      evictedBefore: [...this.evictedBefore],
    };
  }

  restore(s: TaskPartialsSnapshot & { evictedBefore?: Array<[string, number]> }): void {
    this.table.clear();
    this.byBucket.clear();
    this.touched = new Map();
    this.samples = [];
    for (const [family, bucket, tagKey, tags, fields] of s.entries) {
      this.keep(`${family}|${tagKey}|${bucket}`, { family, bucket, tags, tagKey, fields: { ...fields } });
    }
    this.evictedBefore = new Map(s.evictedBefore ?? []);
  }
}
