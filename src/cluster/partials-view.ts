/**
 * KPI partials in a cluster without InfluxDB (docs/cluster.md §7): tasks write **bucket
 * records** to the compacted `G.partials` topic and every instance reads them into a table in
 * a file of its own (`cluster-partials.sqlite`, written by partials-view-worker.ts) and
 * answers from it. Sums run in one fixed order (bucket, tags, writer), so
 * every instance answers the same, bit for bit.
 *
 * A bucket record is key `<writer>|<family>|<bucket>|<segment>` → the absolute fields of
 * every tag key of that segment of the writer's bucket: `[[tagKey, fields], …]`, or for a
 * gauge segment the same in columns (`columnar`). Compaction keeps the latest record of a
 * key, so each record must be the segment's whole content:
 *
 * - a mutable family's bucket (`fire_response`, `alert_ack`, …) is one record (segment 0)
 *   carrying every key the task's partial table holds of that bucket; its keys enter the
 *   table when first written and leave it together, so the record only ever grows;
 * - a gauge family's bucket is sampled once, in one engine step, for every series of the
 *   task at once, and never again: its keys, sorted, are cut into segments of
 *   GAUGE_SEGMENT_KEYS, the same cut on every re-read.
 *
 * Instead of a record per (writer, family, bucket, tags), a record per bucket: one instance
 * over the benchmark stream produced 2.3 M partial records before (the default partitioner's
 * murmur2 of each key and the reader's SQLite upsert of each one were most of its CPU).
 */
import Database from 'better-sqlite3';
import type { Message } from 'kafkajs';
import { FINAL_FAMILIES, type TaskPartials } from '../engine/task-partials.js';
import { mergeFields, tagKeyOf, tagsFromKey, type Fields, type PartialDelta } from '../kpis/partials.js';
import type { PartialRow } from '../kpis/query.js';
import type { KpiReader, PartialGrouping } from '../ports.js';
import type { SqliteDatabase } from '../sqlite/database.js';

/** Tag keys per gauge segment record: a few hundred KiB at most, under the broker's 1 MiB message limit. */
export const GAUGE_SEGMENT_KEYS = 2000;

export interface PartialRecord {
  key: string;
  value: string;
}

export const partialRecordKey = (writer: string, family: string, bucket: number, segment: string) => `${writer}|${family}|${bucket}|${segment}`;

/** Writer and family never contain `|`; the segment is the rest (a tag key for the global stage's records). */
export function parsePartialRecordKey(key: string): { writer: string; family: string; bucket: number; segment: string } | undefined {
  const a = key.indexOf('|');
  const b = a < 0 ? -1 : key.indexOf('|', a + 1);
  const c = b < 0 ? -1 : key.indexOf('|', b + 1);
  if (c < 0) return undefined;
  const bucket = Number(key.slice(b + 1, c));
  if (!Number.isSafeInteger(bucket)) return undefined;
  return { writer: key.slice(0, a), family: key.slice(a + 1, b), bucket, segment: key.slice(c + 1) };
}

const byTagKey = (a: [string, Fields], b: [string, Fields]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * One batch's partials (its touched keys, absolute) as bucket records: for each touched
 * bucket of a mutable family its whole content from the table (called before the table
 * evicts), for each gauge bucket its sampled keys cut into segments.
 */
export function bucketRecordsOf(writer: string, partials: readonly PartialDelta[], table: TaskPartials): PartialRecord[] {
  // By family, then bucket: no key string per partial (a gauge samples thousands a minute).
  const gauges = new Map<string, Map<number, PartialDelta[]>>();
  const mutable = new Map<string, { family: string; bucket: number }>();
  for (const p of partials) {
    if (FINAL_FAMILIES.has(p.family)) {
      let byBucket = gauges.get(p.family);
      if (byBucket === undefined) gauges.set(p.family, (byBucket = new Map()));
      let list = byBucket.get(p.bucket);
      if (list === undefined) byBucket.set(p.bucket, (list = []));
      list.push(p);
    } else mutable.set(`${p.family}|${p.bucket}`, { family: p.family, bucket: p.bucket });
  }
  const out: PartialRecord[] = [];
  // The order of a record's entries means nothing to the reader (it sorts); only a cut into segments needs the sort.
  for (const { family, bucket } of mutable.values()) {
    const held = table.bucketEntries(family, bucket);
    const entries: Array<[string, Fields]> = held === undefined ? [] : [...held].map(([tagKey, e]) => [tagKey, e.fields]);
    // Not held: only touched keys after the bucket left the table (counted as a retouch, a bug); write what the batch has.
    if (held === undefined) for (const p of partials) if (p.family === family && p.bucket === bucket) entries.push([p.tagKey, p.fields]);
    out.push({ key: partialRecordKey(writer, family, bucket, '0'), value: JSON.stringify(entries) });
  }
  for (const [family, byBucket] of gauges) {
    for (const [bucket, entries] of byBucket) {
      if (entries.length > GAUGE_SEGMENT_KEYS) entries.sort(byDeltaTagKey);
      for (let i = 0, s = 0; i < entries.length; i += GAUGE_SEGMENT_KEYS, s++) {
        out.push({ key: partialRecordKey(writer, family, bucket, String(s)), value: columnar(entries, i, Math.min(entries.length, i + GAUGE_SEGMENT_KEYS)) });
      }
    }
  }
  return out;
}

const byDeltaTagKey = (a: PartialDelta, b: PartialDelta) => (a.tagKey < b.tagKey ? -1 : a.tagKey > b.tagKey ? 1 : 0);

/**
 * A gauge segment's entries in columns, `{"t": [tag name, …], "f": [field, …], "r": [row, …]}`:
 * a row is `[[tag value, …], field value, …]` (tag values in the order of `t`, the sorted
 * names of the segment's first entry; `null` where an entry lacks a field), or the entry's
 * tag key string in place of the values when its tag names differ from `t`. Every entry of
 * a sampled bucket carries the same tags and fields, and their names and the tag key's
 * separators (escaped by JSON) repeated per entry were two thirds of the bytes: a member
 * produced as many bytes of gauge partials as it read of input.
 */
function columnar(entries: readonly PartialDelta[], from: number, to: number): string {
  const tagNames = Object.keys(entries[from]!.tags).sort();
  const names: string[] = [];
  const seen = new Set<string>();
  let last: Fields | undefined;
  for (let i = from; i < to; i++) {
    const fields = entries[i]!.fields;
    // Most entries share their series' fields object with other minutes, and all their names.
    if (fields === last) continue;
    last = fields;
    for (const f in fields) {
      if (!seen.has(f)) {
        seen.add(f);
        names.push(f);
      }
    }
  }
  // Packed arrays built by push (JSON.stringify is slower over holey ones).
  const rows: unknown[][] = [];
  for (let i = from; i < to; i++) {
    const { tags, tagKey, fields } = entries[i]!;
    const row: unknown[] = [];
    if (hasExactly(tags, tagNames)) {
      const values: string[] = [];
      for (const t of tagNames) values.push(tags[t]!);
      row.push(values);
    } else row.push(tagKey);
    for (const f of names) row.push(fields[f] ?? null);
    rows.push(row);
  }
  return JSON.stringify({ t: tagNames, f: names, r: rows });
}

function hasExactly(tags: Readonly<Record<string, string>>, names: readonly string[]): boolean {
  let n = 0;
  for (const _ in tags) n++;
  if (n !== names.length) return false;
  for (const name of names) if (tags[name] === undefined) return false;
  return true;
}

/** A bucket record's value as `[tagKey, fields]` entries: the pairs of a mutable family's record, or a gauge segment's columns. */
export function recordEntries(value: string): Array<[string, Fields]> {
  const parsed = JSON.parse(value) as Array<[string, Fields]> | { t: string[]; f: string[]; r: unknown[][] };
  if (Array.isArray(parsed)) return parsed;
  const { t: tagNames, f: names } = parsed;
  return parsed.r.map((row) => {
    const fields: Fields = {};
    for (let j = 0; j < names.length; j++) {
      const v = row[j + 1];
      if (v !== null && v !== undefined) fields[names[j]!] = v as number;
    }
    const head = row[0];
    if (typeof head === 'string') return [head, fields];
    const tags: Record<string, string> = {};
    for (let j = 0; j < tagNames.length; j++) tags[tagNames[j]!] = (head as string[])[j]!;
    return [tagKeyOf(tags), fields];
  });
}

/**
 * The global stage's partials (acknowledgements of `kpi_breach`; its partial table evicts
 * before it hands them out): a record per tag key, segment `k:<tagKey>`, as few as they are.
 */
export function globalPartialRecords(partials: readonly PartialDelta[]): PartialRecord[] {
  return partials.map((p) => ({ key: partialRecordKey(GLOBAL_WRITER, p.family, p.bucket, `k:${p.tagKey}`), value: JSON.stringify([[p.tagKey, p.fields]]) }));
}

const GLOBAL_WRITER = 'global';

/** Bucket records as Kafka messages, all of a writer to one partition (compaction keys never cross partitions). */
export function partialMessages(records: readonly PartialRecord[], partition: number): Message[] {
  return records.map((r) => ({ key: r.key, value: r.value, partition }));
}

/** The view's own file in the data directory (`cluster-partials.sqlite`), beside the instance's data file. */
export const PARTIALS_FILE = 'cluster-partials.sqlite';

/**
 * A connection to the view's file. The file is a cache rebuilt from `G.partials` at every
 * start, so nothing is synced; WAL, so the main thread's reads and the worker's writes never
 * wait for each other.
 */
export function openPartialsFile(path: string): SqliteDatabase {
  const db = new Database(path);
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('busy_timeout = 5000');
  return db;
}

export class PartialsView implements KpiReader {
  private readonly upsert;
  private readonly range;
  private readonly tx;

  constructor(private readonly db: SqliteDatabase) {
    // The per-key table of the first record format: rebuilt from the topic in the new shape.
    // A rowid table: a record's entries run to hundreds of KiB, too large for WITHOUT ROWID.
    db.exec('DROP TABLE IF EXISTS cluster_partials');
    db.exec(`CREATE TABLE IF NOT EXISTS cluster_partial_records (
      family TEXT NOT NULL, bucket INTEGER NOT NULL, writer TEXT NOT NULL, segment TEXT NOT NULL, entries TEXT NOT NULL,
      UNIQUE (family, bucket, writer, segment))`);
    this.upsert = db.prepare(
      'INSERT INTO cluster_partial_records (family, bucket, writer, segment, entries) VALUES (?, ?, ?, ?, ?) ON CONFLICT (family, bucket, writer, segment) DO UPDATE SET entries = excluded.entries',
    );
    this.range = db.prepare('SELECT bucket, entries FROM cluster_partial_records WHERE family = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, writer, segment');
    this.tx = db.transaction((rows: ReadonlyArray<[string, number, string, string, string]>) => {
      for (const r of rows) this.upsert.run(...r);
    });
  }

  /** `G.partials` records (key, value); a key of another shape is skipped. */
  applyRecords(records: ReadonlyArray<{ key: Buffer | null; value: Buffer | null }>): void {
    // The latest record per key within the batch is enough (compaction order).
    const latest = new Map<string, string>();
    for (const m of records) {
      if (m.key === null || m.value === null) continue;
      latest.set(m.key.toString('utf8'), m.value.toString('utf8'));
    }
    const rows: Array<[string, number, string, string, string]> = [];
    for (const [key, value] of latest) {
      const k = parsePartialRecordKey(key);
      if (k !== undefined) rows.push([k.family, k.bucket, k.writer, k.segment, value]);
    }
    if (rows.length > 0) this.tx(rows);
  }

  async partialRows(family: string, from: number, to: number, grouping: PartialGrouping): Promise<PartialRow[]> {
    // Per (bucket, tags): merged over writers in writer order; then grouped as asked.
    const cells: Array<{ bucket: number; tagKey: string; fields: Fields }> = [];
    let bucket = Number.NaN;
    let pending: Array<[string, Fields]> = [];
    const flush = () => {
      // Rows came by writer (then segment); a stable sort by tag key gives (tag key, writer) order.
      pending.sort(byTagKey);
      for (const [tagKey, f] of pending) {
        const last = cells[cells.length - 1];
        if (last !== undefined && last.bucket === bucket && last.tagKey === tagKey) mergeFields(last.fields, f);
        else cells.push({ bucket, tagKey, fields: { ...f } });
      }
      pending = [];
    };
    for (const r of this.range.iterate(family, from, to) as Iterable<{ bucket: number; entries: string }>) {
      if (r.bucket !== bucket) {
        flush();
        bucket = r.bucket;
      }
      for (const e of recordEntries(r.entries)) pending.push(e);
    }
    flush();
    if (grouping === 'bucket-and-tags') return cells.map((c) => ({ family, bucket: c.bucket, tags: tagsFromKey(c.tagKey), fields: c.fields }));
    const out = new Map<string, PartialRow & { fields: Fields }>();
    for (const c of cells) {
      const key = grouping === 'bucket' ? String(c.bucket) : c.tagKey;
      let row = out.get(key);
      if (row === undefined) {
        row = grouping === 'bucket' ? { family, bucket: c.bucket, tags: {}, fields: {} } : { family, bucket: from, tags: tagsFromKey(c.tagKey), fields: {} };
        out.set(key, row);
      }
      mergeFields(row.fields, c.fields);
    }
    const rows = [...out.values()];
    if (grouping === 'tags') rows.sort((a, b) => (JSON.stringify(a.tags) < JSON.stringify(b.tags) ? -1 : 1));
    return rows;
  }
}
