/**
 * Opens the embedded SQLite file and brings its schema up to date. WAL mode lets the
 * HTTP readers run while the pipeline writes; `synchronous` is configurable (NORMAL in
 * WAL survives a process crash, FULL also a power loss).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type SqliteDatabase = Database.Database;

export const DB_FILE = 'huitian.db';

/** Schema versions, in order; the data file records how many it has had (user_version). */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE input_log (
    seq INTEGER PRIMARY KEY,
    entry TEXT NOT NULL
  );
  CREATE TABLE engine_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    log_seq INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  CREATE TABLE source_checkpoints (
    channel TEXT PRIMARY KEY,
    position TEXT NOT NULL
  );
  CREATE TABLE kpi_partials (
    family TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    tag_key TEXT NOT NULL,
    field TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (family, bucket, tag_key, field)
  ) WITHOUT ROWID;
  CREATE TABLE kpi_outbox (
    family TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    tag_key TEXT NOT NULL,
    PRIMARY KEY (family, bucket, tag_key)
  ) WITHOUT ROWID;
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    category TEXT NOT NULL,
    district TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX alerts_by_opened ON alerts (opened_at DESC, id DESC);
  CREATE INDEX alerts_by_status ON alerts (status, opened_at DESC, id DESC);
  CREATE TABLE alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    action TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE TABLE dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    event_id TEXT,
    type TEXT,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  `,
  // KPI partials move from a row per (family, bucket, tags, field) to a segment per commit
  // and (family, bucket); see kpi-segments.ts. Each bucket's rows become one segment.
  `
  CREATE TABLE kpi_segments (
    seq INTEGER PRIMARY KEY,
    family TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    partials TEXT NOT NULL
  );
  CREATE INDEX kpi_segments_by_bucket ON kpi_segments (family, bucket, seq);
  INSERT INTO kpi_segments (family, bucket, partials)
    SELECT family, bucket, json_group_array(json_array(json(names), tag_key, json(vals)) ORDER BY tag_key)
    FROM (
      SELECT family, bucket, tag_key, json_group_array(field ORDER BY field) AS names, json_group_array(value ORDER BY field) AS vals
      FROM kpi_partials GROUP BY family, bucket, tag_key
    )
    GROUP BY family, bucket;
  DROP TABLE kpi_partials;
  `,
  // Alert delivery (issue 12): the notification outbox, silences as the API lists them, and
  // the CAP identifier given to each stored version of an alert.
  `
  CREATE TABLE notification_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    notification_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    receiver TEXT NOT NULL,
    route TEXT NOT NULL,
    reason TEXT NOT NULL,
    event_at INTEGER NOT NULL,
    alert_ids TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
  );
  CREATE INDEX notification_outbox_pending ON notification_outbox (state, receiver, seq);
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    created_seq INTEGER NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE TABLE cap_messages (
    alert_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    sent INTEGER NOT NULL,
    PRIMARY KEY (alert_id, version)
  );
  CREATE INDEX cap_messages_by_sent ON cap_messages (sent);
  `,
  // Engine snapshots as chunks in a file per generation (snapshot-files.ts); the row
  // names the complete one. A NULL generation is a JSON snapshot in \`state\`, as earlier
  // versions wrote it.
  `
  ALTER TABLE engine_snapshot ADD COLUMN generation INTEGER;
  `,
  // Cluster mode: the message a version references, as the global task numbered it
  // (docs/cluster.md §10). NULL in single mode, which finds it among the alert's rows.
  `
  ALTER TABLE cap_messages ADD COLUMN previous_identifier TEXT;
  ALTER TABLE cap_messages ADD COLUMN previous_sent INTEGER;
  `,
];

export function openDatabase(dataDir: string, sync: 'normal' | 'full' = 'normal'): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DB_FILE));
  // 16 KiB pages for a new file (an existing one keeps its size): a commit at ingest rates
  // writes megabytes (the NDJSON it logs, its KPI segments), and WAL frames are per page,
  // so 4 KiB pages made COMMIT a quarter slower; 64 KiB was faster still, but every small
  // commit (one alert, one event) would then write 64 KiB per page it touches.
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: SqliteDatabase): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`the data file was written by a newer huitian-brain (schema ${version}, this one knows ${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
