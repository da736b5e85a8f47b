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

/**
 * The tag key: `name\u0002value` pairs sorted by name, joined by `\u0001`. Injective: in a
 * name or value, `\u0001` and `\u0002` are written `\u0002\u0001` and `\u0002\u0002`, so
 * a value can never end its pair early and smuggle another tag in (decoding already
 * refuses control characters in ids and tags; this holds whatever reaches the fold).
 * Tag names are the KPIs' own (`district`, `point`…), never input, and hold neither.
 * A key without those characters is written as it always was, so data files written
 * before the escape read the same; such characters were never in a valid tag.
 */
export function tagKeyOf(tags: Tags): string {
  const names = Object.keys(tags);
  if (names.length > 1) names.sort();
  let key = '';
  for (const name of names) key += `${key === '' ? '' : '\u0001'}${escapeTagText(name)}\u0002${escapeTagText(tags[name]!)}`;
  return key;
}

const NEEDS_ESCAPE = /[\u0001\u0002]/;

/** A tag name or value as the tag key writes it (see tagKeyOf). */
export function escapeTagText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\u0001\u0002]/g, '\u0002$&') : text;
}

export function tagsFromKey(tagKey: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (tagKey === '') return tags;
  if (!tagKey.includes('\u0002\u0002') && !tagKey.includes('\u0002\u0001')) {
    // Nothing escaped (every key but a crafted one): split.
    for (const pair of tagKey.split('\u0001')) {
      const i = pair.indexOf('\u0002');
      tags[pair.slice(0, i)] = pair.slice(i + 1);
    }
    return tags;
  }
  let name: string | null = null;
  let text = '';
  for (let i = 0; i < tagKey.length; i++) {
    const c = tagKey[i]!;
    if (c === '\u0002') {
      if (name === null) {
        name = text;
        text = '';
      } else {
        // Within a value, \u0002 escapes the next character.
        text += tagKey[++i] ?? '';
      }
    } else if (c === '\u0001' && name !== null) {
      tags[name] = text;
      name = null;
      text = '';
    } else {
      text += c;
    }
  }
  if (name !== null) tags[name] = text;
  return tags;
}

/**
 * One KPI series: a family and its group tags, with the encodings the partial buffer
 * needs. A gauge samples the same series every minute; making one per entity and reusing
 * it spares sorting and joining the tags again for each of the millions of partials a
 * day of sampling writes. Its `tags` end up in the partials, shared, so they are never
 * changed: a series whose tags change is replaced.
 */
export interface Series {
  readonly family: string;
  readonly tags: Tags;
  readonly tagKey: string;
  /** family and tagKey together: the buffer's index. */
  readonly id: string;
}

export function seriesOf(family: string, tags: Tags): Series {
  const tagKey = tagKeyOf(tags);
  return { family, tags, tagKey, id: `${family}|${tagKey}` };
}

/** Collects the deltas of one engine step, merged per (family, bucket, tags), in the order first added. */
export class PartialBuffer {
  /** The step's deltas of each series, by ascending bucket: what `addTo` merges into. */
  private readonly bySeries = new Map<string, PartialDelta[]>();
  private order: PartialDelta[] = [];

  add(family: string, bucket: number, tags: Tags, fields: Readonly<Fields>): void {
    this.addTo(seriesOf(family, tags), bucket, { ...fields });
  }

  /**
   * Like `add`, for a series made once. The buffer keeps `fields` and never changes it,
   * so a caller may pass one object for many minutes, but must not change it afterwards.
   */
  addTo(series: Series, bucket: number, fields: Fields): void {
    let deltas = this.bySeries.get(series.id);
    if (deltas === undefined) {
      deltas = [];
      this.bySeries.set(series.id, deltas);
    }
    // Buckets mostly come in ascending order: a new one is an append, a repeat is found
    // by binary search.
    let i = deltas.length;
    if (i > 0 && deltas[i - 1]!.bucket >= bucket) {
      let lo = 0;
      let hi = i - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (deltas[mid]!.bucket < bucket) lo = mid + 1;
        else hi = mid;
      }
      if (deltas[lo]!.bucket === bucket) {
        // A merged copy: the fields a caller passed may be shared (a gauge hands the same
        // object to every minute its value holds), so the buffer never changes them.
        const found = deltas[lo]!;
        found.fields = mergeFields({ ...found.fields }, fields);
        return;
      }
      i = lo;
    }
    const delta: PartialDelta = { family: series.family, bucket, tags: series.tags, tagKey: series.tagKey, fields };
    if (i === deltas.length) deltas.push(delta);
    else deltas.splice(i, 0, delta);
    this.order.push(delta);
  }

  /**
   * A gauge's minute: the caller guarantees that no other delta of (series, bucket) comes in
   * this step (a minute is sampled once, and only its gauge writes the series), so it goes
   * straight into the output, without the per-series index `addTo` keeps for merging. A
   * gauge samples every entity every minute; this is most of the partials of a day.
   */
  addSample(series: Series, bucket: number, fields: Fields): void {
    this.order.push({ family: series.family, bucket, tags: series.tags, tagKey: series.tagKey, fields });
  }

  get size(): number {
    return this.order.length;
  }

  drain(): PartialDelta[] {
    const all = this.order;
    this.order = [];
    this.bySeries.clear();
    return all;
  }
}
