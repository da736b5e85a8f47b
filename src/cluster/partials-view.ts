/**
 * KPI queries in a cluster without InfluxDB (docs/cluster.md §7): every instance reads
 * the compacted `G.partials` topic — absolute partials per (family, bucket, tags, writer)
 * — into a table in its data file, and answers from it. Sums run in one fixed order
 * (bucket, tags, writer), so every instance answers the same, bit for bit.
 */
import { mergeFields, tagsFromKey, type Fields } from '../kpis/partials.js';
import type { PartialRow } from '../kpis/query.js';
import type { KpiReader, PartialGrouping } from '../ports.js';
import type { SqliteDatabase } from '../sqlite/database.js';

export class PartialsView implements KpiReader {
  private readonly upsert;
  private readonly range;
  private readonly tx;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS cluster_partials (
      family TEXT NOT NULL, bucket INTEGER NOT NULL, tag_key TEXT NOT NULL, writer TEXT NOT NULL, fields TEXT NOT NULL,
      PRIMARY KEY (family, bucket, tag_key, writer)) WITHOUT ROWID`);
    this.upsert = db.prepare(
      'INSERT INTO cluster_partials (family, bucket, tag_key, writer, fields) VALUES (?, ?, ?, ?, ?) ON CONFLICT (family, bucket, tag_key, writer) DO UPDATE SET fields = excluded.fields',
    );
    this.range = db.prepare('SELECT bucket, tag_key, fields FROM cluster_partials WHERE family = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, tag_key, writer');
    this.tx = db.transaction((rows: ReadonlyArray<[string, number, string, string, string]>) => {
      for (const r of rows) this.upsert.run(...r);
    });
  }

  /** Rows of `G.partials` records: [family, bucket, tagKey, writer, fields JSON]. */
  apply(rows: ReadonlyArray<[string, number, string, string, string]>): void {
    if (rows.length > 0) this.tx(rows);
  }

  async partialRows(family: string, from: number, to: number, grouping: PartialGrouping): Promise<PartialRow[]> {
    // Per (bucket, tags): merged over writers; then grouped as asked.
    const cells: Array<{ bucket: number; tagKey: string; fields: Fields }> = [];
    for (const r of this.range.iterate(family, from, to) as Iterable<{ bucket: number; tag_key: string; fields: string }>) {
      const last = cells[cells.length - 1];
      const f = JSON.parse(r.fields) as Fields;
      if (last !== undefined && last.bucket === r.bucket && last.tagKey === r.tag_key) mergeFields(last.fields, f);
      else cells.push({ bucket: r.bucket, tagKey: r.tag_key, fields: f });
    }
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
