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

interface SegmentText {
  family: string;
  bucket: number;
  /** The JSON so far, without the closing brackets. */
  text: string;
  /** Field names of the open group. */
  names: string[] | null;
}

/**
 * The segments of one commit: its partials grouped by (family, bucket), in first-seen order.
 * The JSON is written by hand (a gauge minute is a thousand partials; building arrays for
 * JSON.stringify cost more than the text), the same text JSON.stringify would give.
 */
export function toSegments(partials: readonly PartialDelta[]): Segment[] {
  const segments: SegmentText[] = [];
  const byFamily = new Map<string, Map<number, SegmentText>>();
  let last: SegmentText | undefined;
  for (const p of partials) {
    let segment = last;
    if (segment === undefined || segment.family !== p.family || segment.bucket !== p.bucket) {
      let byBucket = byFamily.get(p.family);
      if (byBucket === undefined) {
        byBucket = new Map();
        byFamily.set(p.family, byBucket);
      }
      segment = byBucket.get(p.bucket);
      if (segment === undefined) {
        segment = { family: p.family, bucket: p.bucket, text: '[', names: null };
        byBucket.set(p.bucket, segment);
        segments.push(segment);
      }
      last = segment;
    }
    const values = segment.names === null ? undefined : valuesText(p.fields, segment.names);
    if (values === undefined) {
      const names = Object.keys(p.fields);
      segment.text += `${segment.names === null ? '' : '],'}[${JSON.stringify(names)},${tagJson(p.tagKey)},${valuesText(p.fields, names)!}`;
      segment.names = names;
    } else {
      segment.text += `,${tagJson(p.tagKey)},${values}`;
    }
  }
  return segments.map((s) => ({ family: s.family, bucket: s.bucket, partials: `${s.text}]]` }));
}

/** `[v, …]` of `fields` when its names are exactly `names`, in that order; else undefined. */
function valuesText(fields: Readonly<Fields>, names: readonly string[]): string | undefined {
  let text = '[';
  let i = 0;
  for (const name in fields) {
    if (names[i] !== name) return undefined;
    const v = fields[name]!;
    // JSON.stringify writes a number as String does, and what is not finite as null.
    text += `${i === 0 ? '' : ','}${Number.isFinite(v) ? String(v) : 'null'}`;
    i++;
  }
  return i === names.length ? `${text}]` : undefined;
}

/** JSON of a tag key, remembered: the same few thousand series come back every minute. */
const tagJsonCache = new Map<string, string>();

function tagJson(tagKey: string): string {
  let json = tagJsonCache.get(tagKey);
  if (json === undefined) {
    if (tagJsonCache.size >= 16_384) tagJsonCache.clear();
    json = JSON.stringify(tagKey);
    tagJsonCache.set(tagKey, json);
  }
  return json;
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
