/**
 * Mergeable KPI partials (DESIGN §4): per KPI family, per 1-minute event-time bucket,
 * per group tags, a handful of numeric fields. Any query sums partials and divides last,
 * so ranges, groupings and instances all combine exactly.
 *
 * A field merges by addition, except fields named `max_*`, which merge by maximum.
 * The rule lives in the name so that every store (SQLite, InfluxDB) and every reader
 * applies the same merge without a lookup table.
 */

export const BUCKET_MS = 60_000;

export type Tags = Readonly<Record<string, string>>;
export type Fields = Record<string, number>;

export interface PartialDelta {
  family: string;
  /** Start of the 1-minute bucket, epoch ms. */
  bucket: number;
  tags: Tags;
  /** Canonical, order-independent encoding of `tags`. */
  tagKey: string;
  fields: Fields;
}

/** Tag value for an entity that did not say where it is. */
export const UNKNOWN = 'unknown';

export function bucketOf(eventTime: number): number {
  return Math.floor(eventTime / BUCKET_MS) * BUCKET_MS;
}

export function isMaxField(field: string): boolean {
  return field.startsWith('max_');
}

export function mergeField(field: string, a: number, b: number): number {
  return isMaxField(field) ? Math.max(a, b) : a + b;
}

/** Merges `from` into `into` field by field. */
export function mergeFields(into: Fields, from: Readonly<Fields>): Fields {
  for (const field in from) {
    const value = from[field]!;
    const prev = into[field];
    into[field] = prev === undefined ? value : mergeField(field, prev, value);
  }
  return into;
}

export function tagKeyOf(tags: Tags): string {
  const names = Object.keys(tags).sort();
  let key = '';
  for (const name of names) key += `${key === '' ? '' : '\u0001'}${name}\u0002${tags[name]}`;
  return key;
}

export function tagsFromKey(tagKey: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (tagKey === '') return tags;
  for (const pair of tagKey.split('\u0001')) {
    const i = pair.indexOf('\u0002');
    tags[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return tags;
}

/** Collects the deltas of one engine step, merged per (family, bucket, tags). */
export class PartialBuffer {
  private readonly byKey = new Map<string, PartialDelta>();

  add(family: string, bucket: number, tags: Tags, fields: Readonly<Fields>): void {
    const tagKey = tagKeyOf(tags);
    const key = `${family}|${bucket}|${tagKey}`;
    const existing = this.byKey.get(key);
    if (existing === undefined) {
      this.byKey.set(key, { family, bucket, tags, tagKey, fields: { ...fields } });
    } else {
      mergeFields(existing.fields, fields);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  drain(): PartialDelta[] {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    return all;
  }
}
