/**
 * KPI partials are stored as segments (a commit's partials of one family and bucket),
 * read back exactly as the row-per-field table answered: within a bucket merged in commit
 * order, across buckets or tags summed with SQLite's SUM algorithm, ordered by SQLite's
 * BINARY collation. A data file of the earlier layout is migrated on open.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seriesOf, type PartialDelta } from '../../src/kpis/partials.js';
import { DB_FILE, MIGRATIONS, openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { compareUtf8, toSegments } from '../../src/sqlite/kpi-segments.js';
import type { PartialGrouping } from '../../src/ports.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';
import { runs } from '../helpers/property-runs.js';

useServiceCleanup();

const M = 60_000;
const T = 1_784_592_000_000;

function delta(family: string, bucket: number, tags: Record<string, string>, fields: Record<string, number>): PartialDelta {
  const s = seriesOf(family, tags);
  return { family, bucket, tags: s.tags, tagKey: s.tagKey, fields };
}

/** Commits of partials, with repeats of a key across commits (as fire response makes). */
const COMMITS: PartialDelta[][] = [
  [
    delta('fire_response', T, { district: '回龙观街道', station: 'A' }, { covered: 1, rt_sum: 0.1, rt_count: 1 }),
    delta('fire_response', T, { district: '霍营街道', station: 'B' }, { missed: 1 }),
    delta('waterlogging', T, { district: '回龙观街道', point: 'P1' }, { depth_cm: 3.3, max_depth_cm: 4.4, over_threshold: 0, points: 1 }),
  ],
  [
    delta('fire_response', T, { district: '回龙观街道', station: 'A' }, { covered: 1, rt_sum: 0.2, rt_count: 1 }),
    delta('fire_response', T + M, { district: '回龙观街道', station: 'A' }, { rt_sum: 0.7, missed: 1 }),
    delta('waterlogging', T + M, { district: '回龙观街道', point: 'P1' }, { depth_cm: 18.1, max_depth_cm: 18.1, over_threshold: 1, points: 1 }),
    delta('waterlogging', T + M, { district: '天通苑北街道', point: 'P2' }, { depth_cm: 0.1, max_depth_cm: 2.2, over_threshold: 0, points: 1 }),
  ],
  [delta('fire_response', T + 2 * M, { district: 'x😀', station: 'A' }, { covered: 1 }), delta('fire_response', T + 2 * M, { district: 'x\uffff', station: 'A' }, { covered: 1 })],
];

/** The earlier layout (MIGRATIONS[0]): a row per field, upserted (addition, or maximum for max_*). */
const V1 = `
  CREATE TABLE kpi_partials (
    family TEXT NOT NULL, bucket INTEGER NOT NULL, tag_key TEXT NOT NULL, field TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (family, bucket, tag_key, field)
  ) WITHOUT ROWID;`;

function v1Rows(db: Database.Database, family: string, from: number, to: number, grouping: PartialGrouping) {
  const sql = {
    'bucket-and-tags': 'SELECT bucket, tag_key, field, value FROM kpi_partials WHERE family = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, tag_key',
    tags: `SELECT tag_key, field, CASE WHEN field LIKE 'max\\_%' ESCAPE '\\' THEN MAX(value) ELSE SUM(value) END AS value
           FROM kpi_partials WHERE family = ? AND bucket >= ? AND bucket < ? GROUP BY tag_key, field ORDER BY tag_key`,
    bucket: `SELECT bucket, field, CASE WHEN field LIKE 'max\\_%' ESCAPE '\\' THEN MAX(value) ELSE SUM(value) END AS value
             FROM kpi_partials WHERE family = ? AND bucket >= ? AND bucket < ? GROUP BY bucket, field ORDER BY bucket`,
  }[grouping];
  const out: Array<{ key: string; fields: Record<string, number> }> = [];
  for (const r of db.prepare(sql).all(family, from, to) as Array<{ bucket?: number; tag_key?: string; field: string; value: number }>) {
    const key = `${r.bucket ?? ''}|${r.tag_key ?? ''}`;
    if (out[out.length - 1]?.key !== key) out.push({ key, fields: {} });
    out[out.length - 1]!.fields[r.field] = r.value;
  }
  return out.map((r) => r.fields);
}

function writeV1(db: Database.Database, commits: PartialDelta[][]): void {
  const add = db.prepare('INSERT INTO kpi_partials VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = value + excluded.value');
  const max = db.prepare('INSERT INTO kpi_partials VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = max(value, excluded.value)');
  for (const commit of commits) {
    for (const p of commit) for (const [f, v] of Object.entries(p.fields)) (f.startsWith('max_') ? max : add).run(p.family, p.bucket, p.tagKey, f, v);
  }
}

const QUERIES: Array<[string, number, number, PartialGrouping]> = [];
for (const family of ['fire_response', 'waterlogging']) {
  for (const grouping of ['bucket-and-tags', 'tags', 'bucket'] as const) {
    QUERIES.push([family, T, T + 3 * M, grouping], [family, T + M, T + 2 * M, grouping], [family, T - M, T, grouping]);
  }
}

describe('KPI segments', () => {
  it('answer every grouping as the row-per-field table did, rows and fields in its order', () => {
    const store = new EmbeddedStore(openDatabase(tempDir()));
    const v1 = new Database(':memory:');
    try {
      v1.exec(V1);
      writeV1(v1, COMMITS);
      for (const commit of COMMITS) store.commit({ log: null, partials: commit.map((p) => ({ ...p, fields: { ...p.fields } })), alerts: [], deadLetters: [] });
      for (const [family, from, to, grouping] of QUERIES) {
        const got = store.partialRowsSync(family, from, to, grouping);
        const fields = got.map((r) => r.fields);
        expect(fields, `${family} ${grouping} [${from}, ${to})`).toEqual(v1Rows(v1, family, from, to, grouping));
        for (let i = 0; i < fields.length; i++) expect(Object.keys(fields[i]!)).toEqual(Object.keys(v1Rows(v1, family, from, to, grouping)[i]!));
      }
      const byTags = store.partialRowsSync('fire_response', T, T + 3 * M, 'tags');
      expect(byTags.map((r) => r.tags.district)).toEqual(['x\uffff', 'x😀', '回龙观街道', '霍营街道']);
      expect(byTags[2]!.fields).toEqual({ covered: 2, missed: 1, rt_count: 2, rt_sum: 1 });
    } finally {
      store.close();
      v1.close();
    }
  });

  it('migrates a data file of the row-per-field layout', () => {
    const dir = tempDir();
    const old = new Database(join(dir, DB_FILE));
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    writeV1(old, COMMITS);
    const expected = QUERIES.map(([family, from, to, grouping]) => v1Rows(old, family, from, to, grouping));
    old.close();
    const store = new EmbeddedStore(openDatabase(dir));
    try {
      expect(QUERIES.map(([family, from, to, grouping]) => store.partialRowsSync(family, from, to, grouping).map((r) => r.fields))).toEqual(expected);
      expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'kpi_partials'").all()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('writes segments as JSON.stringify would write them', () => {
    /** The plain encoding: partials grouped by (family, bucket), runs of equal field names sharing them. */
    const reference = (partials: readonly PartialDelta[]) => {
      const segments = new Map<string, { family: string; bucket: number; groups: unknown[][] }>();
      for (const p of partials) {
        const key = JSON.stringify([p.family, p.bucket]);
        if (!segments.has(key)) segments.set(key, { family: p.family, bucket: p.bucket, groups: [] });
        const groups = segments.get(key)!.groups;
        const names = Object.keys(p.fields);
        const open = groups[groups.length - 1];
        if (open === undefined || JSON.stringify(open[0]) !== JSON.stringify(names)) groups.push([names]);
        groups[groups.length - 1]!.push(p.tagKey, Object.values(p.fields));
      }
      return [...segments.values()].map((s) => ({ family: s.family, bucket: s.bucket, partials: JSON.stringify(s.groups) }));
    };
    const partial = fc.record({
      family: fc.constantFrom('waterlogging', 'fire_response'),
      bucket: fc.constantFrom(T, T + M),
      tagKey: fc.string(),
      fields: fc.dictionary(fc.constantFrom('covered', 'missed', 'max_depth_cm', 'rt_le_5', 'x'), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()), { maxKeys: 3 }),
    });
    fc.assert(
      fc.property(fc.array(partial, { maxLength: 12 }), (list) => {
        const partials = list.map((p) => ({ ...p, tags: {} }));
        expect(toSegments(partials)).toEqual(reference(partials));
      }),
      { numRuns: runs(500) },
    );
  });

  it('orders text as SQLite BINARY does: by code point', () => {
    const words = ['b', 'a', 'ab', '', 'x😀', 'x\uffff', 'x\ud7ff', '回', 'Z'];
    const sqlite = new Database(':memory:');
    const order = (sqlite.prepare(`SELECT value FROM json_each(?) ORDER BY value`).all(JSON.stringify(words)) as Array<{ value: string }>).map((r) => r.value);
    sqlite.close();
    expect([...words].sort(compareUtf8)).toEqual(order);
  });
});
