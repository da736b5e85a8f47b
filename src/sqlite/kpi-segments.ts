/**
 * How the embedded store keeps KPI partials: in segments. A commit writes one row per
 * (family, bucket) it touched, holding that step's partials of the bucket as JSON (see
 * `Segment`); a read merges the segments of a range.
 *
 * Why not a row per (family, bucket, tags, field) updated in place, as before: gauges
 * write a partial per entity per minute, so a day of the benchmark stream (1,600 sensors
 * and lots) is 2.3 million partials and 7.5 million field rows. Upserting those cost 70 %
 * of HTTP ingest time and the answer to a 24-hour per-point query took 17 s; a segment per
 * minute is one insert, and a read parses a few thousand segments instead of aggregating
 * millions of rows.
 *
 * Reads give what the row-per-field table gave, to the last bit: within a bucket the
 * segments merge in commit order (addition, or maximum for `max_*` fields), as the upsert
 * did; across buckets or tags the sums use SQLite's own algorithm for SUM() (Kahan–
 * Babuška–Neumaier), and rows come in the order SQLite's BINARY collation gives tag keys.
 */
import { isMaxField, mergeField, tagsFromKey, type Fields, type PartialDelta } from '../kpis/partials.js';
import type { PartialRow } from '../kpis/query.js';
import type { PartialGrouping } from '../ports.js';

export interface Segment {
  family: string;
  bucket: number;
  /**
   * JSON: `[group, …]`, a group being `[fieldNames, tagKey, values, tagKey, values, …]`:
   * partials with the same field names share one list of them (a gauge's thousand
   * partials of a minute all do), which halves the text to write and to parse.
   */
  partials: string;
}

type Group = [string[], ...Array<string | number[]>];

/** The segments of one commit: its partials grouped by (family, bucket), in first-seen order. */
export function toSegments(partials: readonly PartialDelta[]): Segment[] {
  const segments = new Map<string, { family: string; bucket: number; groups: Group[] }>();
  for (const p of partials) {
    const key = `${p.family}|${p.bucket}`;
    let segment = segments.get(key);
    if (segment === undefined) {
      segment = { family: p.family, bucket: p.bucket, groups: [] };
      segments.set(key, segment);
    }
    let group = segment.groups[segment.groups.length - 1];
    const values = group === undefined ? undefined : valuesIn(p.fields, group[0]);
    if (values === undefined) {
      group = [Object.keys(p.fields)];
      segment.groups.push(group);
      group.push(p.tagKey, Object.values(p.fields));
    } else {
      group!.push(p.tagKey, values);
    }
  }
  return [...segments.values()].map((s) => ({ family: s.family, bucket: s.bucket, partials: JSON.stringify(s.groups) }));
}

/** The values of `fields` when its names are exactly `names`, in that order; else undefined. */
function valuesIn(fields: Readonly<Fields>, names: readonly string[]): number[] | undefined {
  const values: number[] = [];
  let i = 0;
  for (const name in fields) {
    if (names[i] !== name) return undefined;
    values.push(fields[name]!);
    i++;
  }
  return i === names.length ? values : undefined;
}

/**
 * Merges the segments of one bucket, given in commit order, into each tag key's fields:
 * what the bucket holds.
 */
export class BucketMerger {
  readonly byTag = new Map<string, Fields>();

  add(segmentJson: string): void {
    for (const group of JSON.parse(segmentJson) as Group[]) {
      const names = group[0];
      for (let i = 1; i < group.length; i += 2) {
        const tagKey = group[i] as string;
        const values = group[i + 1] as number[];
        const held = this.byTag.get(tagKey);
        if (held === undefined) {
          const fields: Fields = {};
          for (let j = 0; j < names.length; j++) fields[names[j]!] = values[j]!;
          this.byTag.set(tagKey, fields);
        } else {
          for (let j = 0; j < names.length; j++) {
            const name = names[j]!;
            const prev = held[name];
            held[name] = prev === undefined ? values[j]! : mergeField(name, prev, values[j]!);
          }
        }
      }
    }
  }
}

/** SQLite's SUM() over REAL values: Kahan–Babuška–Neumaier summation (func.c, 3.43+). */
class KbnSum {
  private sum = 0;
  private err = 0;

  add(r: number): void {
    const s = this.sum;
    const t = s + r;
    if (Math.abs(s) > Math.abs(r)) this.err += s - t + r;
    else this.err += r - t + s;
    this.sum = t;
  }

  get value(): number {
    return Number.isFinite(this.err) ? this.sum + this.err : this.sum;
  }
}

/** Per field: SUM, or MAX for `max_*` fields — the aggregates the row-per-field reads used. */
class FieldsAggregate {
  private readonly sums = new Map<string, KbnSum>();
  private readonly maxima = new Map<string, number>();

  add(fields: Readonly<Fields>): void {
    for (const field in fields) {
      const v = fields[field]!;
      if (isMaxField(field)) {
        const held = this.maxima.get(field);
        if (held === undefined || v > held) this.maxima.set(field, v);
      } else {
        let sum = this.sums.get(field);
        if (sum === undefined) {
          sum = new KbnSum();
          this.sums.set(field, sum);
        }
        sum.add(v);
      }
    }
  }

  /** In field order, as the SQL GROUP BY over (…, field) listed them. */
  result(): Fields {
    const out: Fields = {};
    for (const field of [...this.sums.keys(), ...this.maxima.keys()].sort(compareUtf8)) {
      out[field] = isMaxField(field) ? this.maxima.get(field)! : this.sums.get(field)!.value;
    }
    return out;
  }
}

/**
 * SQLite's BINARY collation of UTF-8 text is code point order; JavaScript compares UTF-16
 * code units, which differs above U+D7FF. The fix-up is ICU's (u_strCmpCodePointOrder).
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Fields of a bucket in field order, as the row-per-field table listed them. */
function sortedFields(fields: Readonly<Fields>): Fields {
  const out: Fields = {};
  for (const field of Object.keys(fields).sort(compareUtf8)) out[field] = fields[field]!;
  return out;
}

/**
 * The rows of a range for `grouping`, from its segments in (bucket, commit) order:
 * - `bucket-and-tags`: each bucket's fields per tag key, by bucket then tag key;
 * - `tags`: per tag key, summed (or maxed) over the buckets, by tag key, `bucket` = from;
 * - `bucket`: per bucket, summed (or maxed) over the tag keys, by bucket.
 */
export function rowsFromSegments(
  family: string,
  from: number,
  grouping: PartialGrouping,
  segments: Iterable<{ bucket: number; partials: string }>,
): PartialRow[] {
  const rows: PartialRow[] = [];
  const byTag = new Map<string, FieldsAggregate>();
  let bucket: number | null = null;
  let merger = new BucketMerger();
  const finishBucket = () => {
    if (bucket === null) return;
    const tagKeys = [...merger.byTag.keys()].sort(compareUtf8);
    if (grouping === 'bucket-and-tags') {
      for (const tagKey of tagKeys) rows.push({ family, bucket, tags: tagsFromKey(tagKey), fields: sortedFields(merger.byTag.get(tagKey)!) });
    } else if (grouping === 'bucket') {
      const total = new FieldsAggregate();
      for (const tagKey of tagKeys) total.add(merger.byTag.get(tagKey)!);
      rows.push({ family, bucket, tags: {}, fields: total.result() });
    } else {
      for (const tagKey of tagKeys) {
        let agg = byTag.get(tagKey);
        if (agg === undefined) {
          agg = new FieldsAggregate();
          byTag.set(tagKey, agg);
        }
        agg.add(merger.byTag.get(tagKey)!);
      }
    }
  };
  for (const s of segments) {
    if (s.bucket !== bucket) {
      finishBucket();
      bucket = s.bucket;
      merger = new BucketMerger();
    }
    merger.add(s.partials);
  }
  finishBucket();
  if (grouping === 'tags') {
    for (const tagKey of [...byTag.keys()].sort(compareUtf8)) rows.push({ family, bucket: from, tags: tagsFromKey(tagKey), fields: byTag.get(tagKey)!.result() });
  }
  return rows;
}
