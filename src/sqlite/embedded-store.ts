/**
 * The embedded store (DESIGN §1): one SQLite file holding the recovery log and engine
 * snapshot, KPI partials, alerts with their transition feed, dead letters and source
 * checkpoints. `commit` writes everything one engine step changed in one transaction,
 * together with the input that caused it, so after a crash the file holds either the
 * step and its input or neither.
 */
import { dirname } from 'node:path';
import { versionOf, type Alert, type AlertChange, type AlertStatus, type Severity } from '../alerts/alert.js';
import { capIdentifier, capSentSecondOf } from '../cap/identifier.js';
import { HuitianError } from '../errors.js';
import type { Silence } from '../notifications/silences.js';
import type { EngineSnapshot } from '../engine/engine.js';
import { tagsFromKey, type Fields } from '../kpis/partials.js';
import type { PartialRow } from '../kpis/query.js';
import type {
  AlertFilter,
  AlertReader,
  CapMessageRef,
  CapMessages,
  CapNumbered,
  CommitUnit,
  CommittedAlertEvent,
  DeadLetterReader,
  DeliveryState,
  KpiReader,
  LogEntry,
  OutboxDelivery,
  PartialGrouping,
  StoredDeadLetter,
  StoredDelivery,
} from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { BucketMerger, rowsFromSegments, toSegments } from './kpi-segments.js';
import { SnapshotFiles } from './snapshot-files.js';

/** A dead letter keeps at most this much of the original record. */
export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024;

export interface Recovery {
  /** The engine's last checkpoint: its chunks in order, or the one JSON object of a data file from before chunks. */
  snapshot: Uint8Array[] | EngineSnapshot | null;
  /** Log entries after the snapshot, oldest first. */
  log: Iterable<{ seq: number; entry: LogEntry }>;
}

export interface PartialKey {
  family: string;
  bucket: number;
  tagKey: string;
}

function encodeCursor(parts: Array<string | number>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function decodeCursor(cursor: string): unknown[] | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export class InvalidCursorError extends Error {}

/** A chunked engine snapshot being written (see EmbeddedStore.beginSnapshot). */
export interface ChunkedSnapshot {
  readonly generation: number;
  /** The last input log entry whose effects the snapshot holds. */
  readonly logSeq: number;
}

/**
 * A log entry as stored: JSON, except that NDJSON input is stored as a JSON header line
 * followed by the NDJSON unchanged — as a BLOB of the bytes received when it came as
 * bytes — so the largest entries are neither escaped nor transcoded on the way in, nor
 * parsed twice on the way out. JSON.stringify never writes a raw newline, so the first
 * one ends the header.
 */
export function encodeLogEntry(entry: LogEntry): string | Buffer {
  if (entry.kind !== 'events-ndjson') return JSON.stringify(entry);
  const { ndjson, ...header } = entry;
  if (typeof ndjson === 'string') return `${JSON.stringify(header)}\n${ndjson}`;
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ndjson]);
}

export function decodeLogEntry(stored: string | Uint8Array): LogEntry {
  type Header = Omit<Extract<LogEntry, { kind: 'events-ndjson' }>, 'ndjson'>;
  if (typeof stored !== 'string') {
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const newline = bytes.indexOf(0x0a);
    const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Header;
    return { ...header, ndjson: bytes.subarray(newline + 1) };
  }
  const newline = stored.indexOf('\n');
  if (newline < 0) return JSON.parse(stored) as LogEntry;
  const header = JSON.parse(stored.slice(0, newline)) as Header;
  return { ...header, ndjson: stored.slice(newline + 1) };
}

export interface DeliveryFilter {
  state?: DeliveryState;
  receiver?: string;
  alertId?: string;
  limit: number;
  cursor?: string;
}

export type { CapMessageRef } from '../ports.js';

interface DeliveryRow {
  seq: number;
  delivery_id: string;
  notification_id: string;
  idempotency_key: string;
  receiver: string;
  route: string;
  reason: string;
  event_at: number;
  alert_ids: string;
  content_type: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

function deliveryOf(r: DeliveryRow): StoredDelivery {
  return {
    seq: r.seq,
    deliveryId: r.delivery_id,
    notificationId: r.notification_id,
    idempotencyKey: r.idempotency_key,
    receiver: r.receiver,
    route: r.route,
    reason: r.reason,
    eventAt: r.event_at,
    alertIds: JSON.parse(r.alert_ids) as string[],
    contentType: r.content_type,
    body: r.body,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

export class EmbeddedStore implements KpiReader, AlertReader, DeadLetterReader, CapMessages {
  private readonly stmt;
  private readonly commitTx;
  /** When an external KPI sink (InfluxDB) is configured, touched partials are queued for it. */
  outboxEnabled = false;
  /** GB/T 35965.1 issuer code of the CAP identifiers given to stored alert versions. */
  capIssuerCode = '11011400000000';
  /**
   * Whether this store numbers CAP identifiers itself (single mode). In cluster mode the
   * global task numbers them and this store only mirrors them (docs/cluster.md §10).
   */
  capNumbering = true;
  /** Wall clock stamping outbox rows (set by the service). */
  wallClock: () => number = () => 0;

  /** Engine checkpoints, in files beside the database (see snapshot-files.ts). */
  readonly snapshots: SnapshotFiles;
  /** The last generation beginSnapshot handed out (see there). */
  private lastGeneration = 0;

  constructor(readonly db: SqliteDatabase) {
    this.snapshots = new SnapshotFiles(dirname(db.name));
    this.stmt = {
      appendLog: db.prepare('INSERT INTO input_log (entry) VALUES (?)'),
      readLog: db.prepare('SELECT seq, entry FROM input_log ORDER BY seq'),
      readSnapshot: db.prepare('SELECT log_seq, state, generation FROM engine_snapshot WHERE id = 1'),
      writeSnapshot: db.prepare(
        'INSERT INTO engine_snapshot (id, log_seq, taken_at, state, generation) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET log_seq = excluded.log_seq, taken_at = excluded.taken_at, state = excluded.state, generation = excluded.generation',
      ),

      truncateLog: db.prepare('DELETE FROM input_log WHERE seq <= ?'),
      maxLogSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM input_log'),
      addSegment: db.prepare('INSERT INTO kpi_segments (family, bucket, partials) VALUES (?, ?, ?)'),
      queueOutbox: db.prepare('INSERT OR IGNORE INTO kpi_outbox (family, bucket, tag_key) VALUES (?, ?, ?)'),
      upsertAlert: db.prepare(
        `INSERT INTO alerts (id, status, severity, category, district, entity_id, opened_at, doc) VALUES (@id, @status, @severity, @category, @district, @entityId, @openedAt, @doc)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, severity = excluded.severity, doc = excluded.doc`,
      ),
      appendAlertEvent: db.prepare('INSERT INTO alert_events (alert_id, action, doc) VALUES (?, ?, ?)'),
      addDeadLetter: db.prepare(
        'INSERT INTO dead_letters (received_at, channel, event_id, type, reason, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setCheckpoint: db.prepare(
        'INSERT INTO source_checkpoints (channel, position) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET position = excluded.position',
      ),
      getCheckpoint: db.prepare('SELECT position FROM source_checkpoints WHERE channel = ?'),
      getAlert: db.prepare('SELECT doc FROM alerts WHERE id = ?'),
      alertEventsAfter: db.prepare('SELECT seq, action, doc FROM alert_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      lastAlertSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM alert_events'),
      countAlerts: db.prepare('SELECT severity, status, COUNT(*) AS count FROM alerts GROUP BY severity, status'),
      outboxBatch: db.prepare('SELECT family, bucket, tag_key FROM kpi_outbox LIMIT ?'),
      outboxSize: db.prepare('SELECT COUNT(*) AS n FROM kpi_outbox'),
      outboxDelete: db.prepare('DELETE FROM kpi_outbox WHERE family = ? AND bucket = ? AND tag_key = ?'),
      segmentsOfBucket: db.prepare('SELECT partials FROM kpi_segments WHERE family = ? AND bucket = ? ORDER BY seq'),
      segmentsInRange: db.prepare('SELECT bucket, partials FROM kpi_segments WHERE family = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, seq'),
      addDelivery: db.prepare(
        `INSERT OR IGNORE INTO notification_outbox (delivery_id, notification_id, idempotency_key, receiver, route, reason, event_at, alert_ids, content_type, body, state, next_attempt_at, created_at)
         VALUES (@deliveryId, @notificationId, @idempotencyKey, @receiver, @route, @reason, @eventAt, @alertIds, @contentType, @body, 'pending', @now, @now)`,
      ),
      dueDeliveries: db.prepare(
        `SELECT o.* FROM notification_outbox o WHERE o.state = 'pending' AND o.seq = (SELECT MIN(seq) FROM notification_outbox p WHERE p.state = 'pending' AND p.receiver = o.receiver) AND o.next_attempt_at <= ? ORDER BY o.seq LIMIT ?`,
      ),
      // Only each receiver's oldest pending delivery is attempted, so only those say when to
      // look again: the rows queued behind a receiver that is down are not due before it.
      headDeliveries: db.prepare(
        `SELECT o.receiver, o.next_attempt_at AS nextAttemptAt FROM notification_outbox o WHERE o.state = 'pending' AND o.seq = (SELECT MIN(seq) FROM notification_outbox p WHERE p.state = 'pending' AND p.receiver = o.receiver)`,
      ),
      deliveryDone: db.prepare(`UPDATE notification_outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ? WHERE delivery_id = ?`),
      deliveryRetry: db.prepare(`UPDATE notification_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? WHERE delivery_id = ?`),
      deliveryFailed: db.prepare(`UPDATE notification_outbox SET state = 'failed', attempts = attempts + 1, last_status = ?, last_error = ? WHERE delivery_id = ?`),
      getDelivery: db.prepare('SELECT * FROM notification_outbox WHERE delivery_id = ?'),
      deliveryCounts: db.prepare('SELECT receiver, state, COUNT(*) AS count FROM notification_outbox GROUP BY receiver, state'),
      upsertSilence: db.prepare(
        'INSERT INTO silences (id, created_seq, doc) VALUES (?, (SELECT COALESCE(MAX(created_seq), 0) + 1 FROM silences), ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
      ),
      getSilence: db.prepare('SELECT doc FROM silences WHERE id = ?'),
      listSilences: db.prepare('SELECT doc FROM silences ORDER BY created_seq DESC LIMIT ?'),
      capMessage: db.prepare('SELECT version, identifier, sent FROM cap_messages WHERE alert_id = ? AND version = ?'),
      capMessagesOf: db.prepare('SELECT version, identifier, sent FROM cap_messages WHERE alert_id = ? ORDER BY version'),
      capCountAt: db.prepare('SELECT COUNT(*) AS n FROM cap_messages WHERE sent = ?'),
      addCapMessage: db.prepare('INSERT OR IGNORE INTO cap_messages (alert_id, version, identifier, sent) VALUES (?, ?, ?, ?)'),
      capNumbered: db.prepare('SELECT version, identifier, sent, previous_identifier AS previousIdentifier, previous_sent AS previousSent FROM cap_messages WHERE alert_id = ? AND version = ?'),
      mirrorCapMessage: db.prepare(
        'INSERT OR IGNORE INTO cap_messages (alert_id, version, identifier, sent, previous_identifier, previous_sent) VALUES (@alertId, @version, @identifier, @sent, @previousIdentifier, @previousSent)',
      ),
    };
    this.commitTx = db.transaction((unit: CommitUnit): CommittedAlertEvent[] => this.writeUnit(unit));
  }

  /** Writes one step atomically; returns the stored alert transitions with their feed sequence. */
  commit(unit: CommitUnit): CommittedAlertEvent[] {
    return this.commitTx(unit);
  }

  private writeUnit(unit: CommitUnit): CommittedAlertEvent[] {
    const s = this.stmt;
    if (unit.log !== null) s.appendLog.run(encodeLogEntry(unit.log));
    for (const segment of toSegments(unit.partials)) s.addSegment.run(segment.family, segment.bucket, segment.partials);
    if (this.outboxEnabled) for (const p of unit.partials) s.queueOutbox.run(p.family, p.bucket, p.tagKey);
    const committed: CommittedAlertEvent[] = [];
    for (const change of unit.alerts) committed.push(this.writeAlertChange(change));
    for (const d of unit.deadLetters) {
      const payload = d.payload.length > DEAD_LETTER_PAYLOAD_LIMIT ? d.payload.slice(0, DEAD_LETTER_PAYLOAD_LIMIT) : d.payload;
      s.addDeadLetter.run(d.receivedAt, d.channel, d.eventId, d.type, d.reason, payload);
    }
    for (const [channel, position] of unit.checkpoints ?? []) s.setCheckpoint.run(channel, position);
    const now = this.wallClock();
    for (const d of unit.deliveries ?? []) this.insertDelivery(d, now);
    for (const silence of unit.silences ?? []) s.upsertSilence.run(silence.id, JSON.stringify(silence));
    return committed;
  }

  private insertDelivery(d: OutboxDelivery, now: number): void {
    this.stmt.addDelivery.run({ ...d, alertIds: JSON.stringify(d.alertIds), now });
  }

  private writeAlertChange(change: AlertChange): CommittedAlertEvent {
    const a = change.alert;
    const doc = JSON.stringify(a);
    this.stmt.upsertAlert.run({
      id: a.id,
      status: a.status,
      severity: a.severity,
      category: a.category,
      district: a.district,
      entityId: a.entityId,
      openedAt: a.openedAt,
      doc,
    });
    const info = this.stmt.appendAlertEvent.run(a.id, change.action, doc);
    if (this.capNumbering) this.capMessageOf(a);
    return { seq: Number(info.lastInsertRowid), action: change.action, alert: a };
  }

  /**
   * The CAP identifier of an alert version, given when the version is first stored (or
   * first asked for): N counts the messages already given in that second, so identifiers
   * are unique and a replay of the same input gives the same ones.
   */
  capMessageOf(a: Alert): CapMessageRef {
    const version = versionOf(a);
    const found = this.stmt.capMessage.get(a.id, version) as CapMessageRef | undefined;
    if (found !== undefined) return found;
    if (!this.capNumbering) throw new HuitianError('CAP_NOT_NUMBERED', { id: a.id, version });
    const second = capSentSecondOf(a);
    const n = (this.stmt.capCountAt.get(second) as { n: number }).n;
    const identifier = capIdentifier(this.capIssuerCode, second, n);
    this.stmt.addCapMessage.run(a.id, version, identifier, second);
    return { version, identifier, sent: second };
  }

  /**
   * CapMessages: single mode numbers the version if it has no number and references the
   * alert's newest message below it; cluster mode answers what the global task numbered, or
   * undefined while the version has no number (yet).
   */
  capNumberOf(a: Alert): CapNumbered | undefined {
    if (this.capNumbering) {
      const message = this.capMessageOf(a);
      let previous: { identifier: string; sent: number } | null = null;
      for (const ref of this.capMessagesOf(a.id)) if (ref.version < message.version) previous = { identifier: ref.identifier, sent: ref.sent };
      return { message, previous };
    }
    const row = this.stmt.capNumbered.get(a.id, versionOf(a)) as (CapMessageRef & { previousIdentifier: string | null; previousSent: number | null }) | undefined;
    if (row === undefined) return undefined;
    return {
      message: { version: row.version, identifier: row.identifier, sent: row.sent },
      previous: row.previousIdentifier === null ? null : { identifier: row.previousIdentifier, sent: row.previousSent ?? 0 },
    };
  }

  /** Cluster mode: the CAP numbers read from `G.notifications` (the first of a version stays). */
  mirrorCapMessages(list: ReadonlyArray<{ alertId: string; version: number; identifier: string; sent: number; previous: { identifier: string; sent: number } | null }>): void {
    this.db.transaction(() => {
      for (const c of list) {
        this.stmt.mirrorCapMessage.run({
          alertId: c.alertId,
          version: c.version,
          identifier: c.identifier,
          sent: c.sent,
          previousIdentifier: c.previous?.identifier ?? null,
          previousSent: c.previous?.sent ?? null,
        });
      }
    })();
  }

  /** The CAP messages given so far to an alert's versions, oldest first. */
  capMessagesOf(alertId: string): CapMessageRef[] {
    return this.stmt.capMessagesOf.all(alertId) as CapMessageRef[];
  }

  // ---- notification outbox and silences ----

  /** Per receiver, its oldest pending delivery if its next attempt is due at `now`. */
  dueDeliveries(now: number, limit: number): StoredDelivery[] {
    return (this.stmt.dueDeliveries.all(now, limit) as DeliveryRow[]).map(deliveryOf);
  }

  /** Wall time of the earliest attempt due (of each receiver's oldest pending delivery), or null when nothing is pending. */
  nextDeliveryAt(): number | null {
    let next: number | null = null;
    for (const h of this.headDeliveries()) if (next === null || h.nextAttemptAt < next) next = h.nextAttemptAt;
    return next;
  }

  /** Each receiver's oldest pending delivery: the only one of its queue that is attempted. */
  headDeliveries(): Array<{ receiver: string; nextAttemptAt: number }> {
    return this.stmt.headDeliveries.all() as Array<{ receiver: string; nextAttemptAt: number }>;
  }

  /** One delivery of the outbox, whatever its state. */
  getDelivery(deliveryId: string): StoredDelivery | undefined {
    const row = this.stmt.getDelivery.get(deliveryId) as DeliveryRow | undefined;
    return row === undefined ? undefined : deliveryOf(row);
  }

  deliveryDone(deliveryId: string, status: number | null, now: number): void {
    this.stmt.deliveryDone.run(status, now, deliveryId);
  }

  deliveryRetry(deliveryId: string, status: number | null, error: string, nextAttemptAt: number): void {
    this.stmt.deliveryRetry.run(status, error.slice(0, 500), nextAttemptAt, deliveryId);
  }

  deliveryFailed(deliveryId: string, status: number | null, error: string): void {
    this.stmt.deliveryFailed.run(status, error.slice(0, 500), deliveryId);
  }

  deliveryCounts(): Array<{ receiver: string; state: DeliveryState; count: number }> {
    return this.stmt.deliveryCounts.all() as Array<{ receiver: string; state: DeliveryState; count: number }>;
  }

  listDeliveries(filter: DeliveryFilter): { items: StoredDelivery[]; nextCursor: string | null } {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.state !== undefined) {
      where.push('state = ?');
      params.push(filter.state);
    }
    if (filter.receiver !== undefined) {
      where.push('receiver = ?');
      params.push(filter.receiver);
    }
    if (filter.alertId !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM json_each(alert_ids) WHERE value = ?)`);
      params.push(filter.alertId);
    }
    if (filter.cursor !== undefined) {
      const c = decodeCursor(filter.cursor);
      if (c === null || c.length !== 1 || typeof c[0] !== 'number') throw new InvalidCursorError('cursor');
      where.push('seq < ?');
      params.push(c[0]);
    }
    const sql = `SELECT * FROM notification_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, filter.limit + 1) as DeliveryRow[];
    const items = rows.slice(0, filter.limit).map(deliveryOf);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor([last.seq]) : null };
  }

  getSilence(id: string): Silence | undefined {
    const row = this.stmt.getSilence.get(id) as { doc: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as Silence);
  }

  listSilences(limit: number): Silence[] {
    return (this.stmt.listSilences.all(limit) as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as Silence);
  }

  // ---- recovery log and snapshots ----

  /**
   * The snapshot and every input logged after it. `writeSnapshot` drops the log it covers
   * in the same transaction, so whatever is left in the log is after the snapshot. The
   * log is not filtered by the snapshot's `log_seq`: `seq` is a plain rowid, which SQLite
   * reuses from 1 once the table is empty, so entries written after a snapshot can carry
   * numbers below it — filtering by it lost them on recovery.
   */
  recovery(): Recovery {
    const row = this.stmt.readSnapshot.get() as { log_seq: number; state: string; generation: number | null } | undefined;
    let snapshot: Recovery['snapshot'] = null;
    if (row !== undefined && row.generation !== null) snapshot = this.snapshots.read(row.generation);
    else if (row !== undefined) snapshot = JSON.parse(row.state) as EngineSnapshot;
    // Files of other generations were replaced, or never completed (a crash while writing).
    this.snapshots.removeExcept([row?.generation ?? null]);
    const read = this.stmt.readLog;
    return {
      snapshot,
      log: (function* () {
        for (const r of read.iterate() as Iterable<{ seq: number; entry: string | Buffer }>) {
          yield { seq: r.seq, entry: decodeLogEntry(r.entry) };
        }
      })(),
    };
  }

  /**
   * Stores a snapshot of the engine after every logged input so far, as one JSON text (the
   * format before chunks, kept for tests and tools that write one), and drops that log.
   */
  writeSnapshot(state: string, takenAt: number): void {
    this.db.transaction(() => {
      const { seq } = this.stmt.maxLogSeq.get() as { seq: number };
      this.stmt.writeSnapshot.run(seq, takenAt, state, null);
      this.stmt.truncateLog.run(seq);
    })();
    this.snapshots.removeExcept([]);
  }

  /**
   * Begins a snapshot of the engine as it is after every input logged so far: its chunks go
   * into the file of a new generation (`snapshotFiles`), while more input may be logged, and
   * `finishSnapshot`, once that file is synced, makes it the one recovery starts from. Until
   * then the previous snapshot and the whole log after it stay as they were, so a crash at
   * any point recovers.
   */
  beginSnapshot(): ChunkedSnapshot {
    const { seq } = this.stmt.maxLogSeq.get() as { seq: number };
    // Never the same generation twice, even before its file exists: a checkpoint begun in
    // slices opens its file asynchronously, and a shutdown snapshot taken meanwhile under the
    // same number had its file truncated by that open and deleted by the abandoned job.
    const generation = Math.max(this.currentGeneration() ?? 0, ...this.snapshots.generations(), this.lastGeneration) + 1;
    this.lastGeneration = generation;
    return { generation, logSeq: seq };
  }

  /**
   * Switches recovery to a complete snapshot (its file synced) and drops the log it covers,
   * in one transaction; then deletes the files of every other generation but `keep`.
   */
  finishSnapshot(snapshot: ChunkedSnapshot, takenAt: number, keep: number | null = null): void {
    this.db.transaction(() => {
      this.stmt.writeSnapshot.run(snapshot.logSeq, takenAt, '', snapshot.generation);
      this.stmt.truncateLog.run(snapshot.logSeq);
    })();
    this.snapshots.removeExcept([snapshot.generation, keep]);
  }

  /** Writes a whole snapshot at once (start-up, shutdown) and switches to it. */
  writeSnapshotChunks(chunks: Iterable<Uint8Array>, takenAt: number): void {
    const snapshot = this.beginSnapshot();
    this.snapshots.writeSync(snapshot.generation, chunks);
    this.finishSnapshot(snapshot, takenAt);
  }

  private currentGeneration(): number | null {
    const row = this.stmt.readSnapshot.get() as { generation: number | null } | undefined;
    return row?.generation ?? null;
  }

  checkpoint(channel: string): string | undefined {
    const row = this.stmt.getCheckpoint.get(channel) as { position: string } | undefined;
    return row?.position;
  }

  // ---- outbox for an external KPI sink ----

  outboxSize(): number {
    return (this.stmt.outboxSize.get() as { n: number }).n;
  }

  /** Up to `limit` queued partials with their current absolute fields. */
  outboxBatch(limit: number): Array<PartialKey & { tags: Record<string, string>; fields: Record<string, number> }> {
    const keys = this.stmt.outboxBatch.all(limit) as Array<{ family: string; bucket: number; tag_key: string }>;
    const buckets = new Map<string, Map<string, Fields>>();
    return keys.map((k) => {
      const fields = { ...this.bucketFields(k.family, k.bucket, buckets).get(k.tag_key) };
      return { family: k.family, bucket: k.bucket, tagKey: k.tag_key, tags: tagsFromKey(k.tag_key), fields };
    });
  }

  /** Removes written keys, unless they were touched again since they were read (then they stay queued). */
  outboxDone(written: ReadonlyArray<PartialKey & { fields: Record<string, number> }>): void {
    this.db.transaction(() => {
      const buckets = new Map<string, Map<string, Fields>>();
      for (const w of written) {
        const now = this.bucketFields(w.family, w.bucket, buckets).get(w.tagKey) ?? {};
        const names = Object.keys(now);
        const unchanged = names.length === Object.keys(w.fields).length && names.every((f) => w.fields[f] === now[f]);
        if (unchanged) this.stmt.outboxDelete.run(w.family, w.bucket, w.tagKey);
      }
    })();
  }

  /** A bucket's fields per tag key, read once per call through `cache`. */
  private bucketFields(family: string, bucket: number, cache: Map<string, Map<string, Fields>>): Map<string, Fields> {
    const key = `${family}|${bucket}`;
    let byTag = cache.get(key);
    if (byTag === undefined) {
      const merger = new BucketMerger();
      for (const r of this.stmt.segmentsOfBucket.iterate(family, bucket) as Iterable<{ partials: string }>) merger.add(r.partials);
      byTag = merger.byTag;
      cache.set(key, byTag);
    }
    return byTag;
  }

  // ---- readers ----

  async partialRows(family: string, from: number, to: number, grouping: PartialGrouping): Promise<PartialRow[]> {
    return this.partialRowsSync(family, from, to, grouping);
  }

  partialRowsSync(family: string, from: number, to: number, grouping: PartialGrouping): PartialRow[] {
    const segments = this.stmt.segmentsInRange.iterate(family, from, to) as Iterable<{ bucket: number; partials: string }>;
    return rowsFromSegments(family, from, grouping, segments);
  }

  listAlerts(filter: AlertFilter): { items: Alert[]; nextCursor: string | null } {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.status === 'active') where.push(`status IN ('open', 'acknowledged')`);
    else if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    for (const [column, value] of [
      ['severity', filter.severity],
      ['category', filter.category],
      ['district', filter.district],
      ['entity_id', filter.entityId],
    ] as const) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    if (filter.cursor !== undefined) {
      const c = decodeCursor(filter.cursor);
      if (c === null || c.length !== 2 || typeof c[0] !== 'number' || typeof c[1] !== 'string') throw new InvalidCursorError('cursor');
      where.push('(opened_at < ? OR (opened_at = ? AND id < ?))');
      params.push(c[0], c[0], c[1]);
    }
    const sql = `SELECT doc FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    const docs = this.db.prepare(sql).all(...params, filter.limit + 1) as Array<{ doc: string }>;
    const items = docs.slice(0, filter.limit).map((d) => JSON.parse(d.doc) as Alert);
    const last = items[items.length - 1];
    const nextCursor = docs.length > filter.limit && last !== undefined ? encodeCursor([last.openedAt, last.id]) : null;
    return { items, nextCursor };
  }

  getAlert(id: string): Alert | undefined {
    const row = this.stmt.getAlert.get(id) as { doc: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as Alert);
  }

  alertEventsAfter(seq: number, limit: number): CommittedAlertEvent[] {
    return (this.stmt.alertEventsAfter.all(seq, limit) as Array<{ seq: number; action: string; doc: string }>).map((r) => ({
      seq: r.seq,
      action: r.action as CommittedAlertEvent['action'],
      alert: JSON.parse(r.doc) as Alert,
    }));
  }

  lastAlertEventSeq(): number {
    return (this.stmt.lastAlertSeq.get() as { seq: number }).seq;
  }

  /** Counts by severity × status × category × district (the wall display's summary). */
  alertSummary(status?: AlertStatus | 'active'): Array<{ severity: Severity; status: AlertStatus; category: string; district: string; count: number }> {
    const where = status === undefined ? '' : status === 'active' ? `WHERE status IN ('open', 'acknowledged')` : 'WHERE status = ?';
    const sql = `SELECT severity, status, category, district, COUNT(*) AS count FROM alerts ${where} GROUP BY severity, status, category, district ORDER BY category, district, severity, status`;
    const stmt = this.db.prepare(sql);
    return (status === undefined || status === 'active' ? stmt.all() : stmt.all(status)) as Array<{ severity: Severity; status: AlertStatus; category: string; district: string; count: number }>;
  }

  countAlerts(): Array<{ severity: Severity; status: AlertStatus; count: number }> {
    return this.stmt.countAlerts.all() as Array<{ severity: Severity; status: AlertStatus; count: number }>;
  }

  listDeadLetters(limit: number, cursor?: string): { items: StoredDeadLetter[]; nextCursor: string | null } {
    let before = Number.MAX_SAFE_INTEGER;
    if (cursor !== undefined) {
      const c = decodeCursor(cursor);
      if (c === null || c.length !== 1 || typeof c[0] !== 'number') throw new InvalidCursorError('cursor');
      before = c[0];
    }
    const rows = this.db
      .prepare('SELECT seq, received_at, channel, event_id, type, reason, payload FROM dead_letters WHERE seq < ? ORDER BY seq DESC LIMIT ?')
      .all(before, limit + 1) as Array<{ seq: number; received_at: number; channel: string; event_id: string | null; type: string | null; reason: string; payload: string }>;
    const items = rows.slice(0, limit).map((r) => ({
      seq: r.seq,
      receivedAt: r.received_at,
      channel: r.channel,
      eventId: r.event_id,
      type: r.type,
      reason: r.reason,
      payload: r.payload,
    }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.seq]) : null };
  }

  close(): void {
    this.db.close();
  }
}
