/**
 * The small interfaces (ports) between the pipeline and its adapters. The core never
 * sees these; the pipeline and the HTTP layer depend on them; SQLite, InfluxDB, Kafka,
 * NATS and SSE implement them.
 */
import type { Alert, AlertChange, AlertCategory, AlertStatus, Severity } from './alerts/alert.js';
import type { HuitianEvent } from './events/schemas.js';
import type { PartialDelta } from './kpis/partials.js';
import type { GaugeKpi } from './kpis/kpi-definition.js';
import type { GaugeParts, PartialRow } from './kpis/query.js';
import type { Silence } from './notifications/silences.js';

/** One input of the engine, as written to the recovery log before its effects. */
export type LogEntry =
  | { kind: 'events'; channel: string; now: number; idleAfter: boolean; events: HuitianEvent[] }
  /**
   * The same, for events that came as NDJSON: the text as received (or its UTF-8 bytes),
   * whose lines that decode are the events, in order. Keeping the text spares encoding
   * every event again (the largest cost of a commit at ingest rates); a restart decodes
   * it again (decodeNdjson).
   */
  | { kind: 'events-ndjson'; channel: string; now: number; idleAfter: boolean; ndjson: string | Uint8Array }
  | { kind: 'tick'; now: number }
  | { kind: 'idle'; channel: string; now: number }
  | { kind: 'register-channel'; channel: string; now: number }
  | { kind: 'activate-channels'; channels: string[]; now: number }
  | { kind: 'remove-channel'; channel: string; now: number }
  | { kind: 'ack'; alertId: string; by: string; note?: string; now: number; until?: number }
  | { kind: 'resolve'; alertId: string; by: string; note?: string; now: number }
  /** Operator inputs of the notification stage: replayed in the same place, they decide the same way. */
  | { kind: 'silence'; silence: Silence; now: number }
  | { kind: 'silence-expire'; id: string; at: number; now: number };

/** A record's place in its source, so an operator can find it there (the Kafka key and offset). */
export interface SourcePosition {
  key: string | null;
  offset: string;
}

export interface DeadLetter {
  receivedAt: number;
  /** Where it came from: `http`, `kafka:<topic>:<partition>`, `nats:<subject>`. */
  channel: string;
  eventId: string | null;
  type: string | null;
  reason: string;
  /** The record as received (truncated), for an operator to inspect and re-send. */
  payload: string;
  /** Kafka: the record's key and offset in `channel`'s partition (forwarded, not stored). */
  source?: SourcePosition;
}

/** Everything one engine step changed, committed atomically. */
export interface CommitUnit {
  log: LogEntry | null;
  partials: readonly PartialDelta[];
  alerts: readonly AlertChange[];
  deadLetters: readonly DeadLetter[];
  /** Source positions (e.g. Kafka offsets) reached by this step. */
  checkpoints?: ReadonlyArray<readonly [channel: string, position: string]>;
  /** Notifications to deliver, one row per receiver (inserted once: ids are deterministic). */
  deliveries?: readonly OutboxDelivery[];
  /** Silences created or changed by this step. */
  silences?: readonly Silence[];
}

/** One notification for one receiver, as queued in the outbox. */
export interface OutboxDelivery {
  deliveryId: string;
  notificationId: string;
  /** What a receiver drops repeats by: `<alert id>:<version>`, or the notification id for a group. */
  idempotencyKey: string;
  receiver: string;
  route: string;
  reason: string;
  /** Event time of the decision. */
  eventAt: number;
  alertIds: string[];
  contentType: string;
  body: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface StoredDelivery extends OutboxDelivery {
  seq: number;
  state: DeliveryState;
  attempts: number;
  /** Wall time of the next attempt (epoch ms). */
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/**
 * The notification outbox as the delivery worker sees it (src/delivery/outbox-worker.ts):
 * the embedded store, or in a cluster the owner's mirror of `G.notifications`, whose
 * outcomes also go back to that topic (src/cluster/cluster-outbox.ts).
 */
export interface DeliveryOutbox {
  /** Per receiver, its oldest pending delivery if its next attempt is due at `now`. */
  dueDeliveries(now: number, limit: number): StoredDelivery[];
  /** Each receiver's oldest pending delivery: the only one of its queue that is attempted. */
  headDeliveries(): Array<{ receiver: string; nextAttemptAt: number }>;
  deliveryDone(deliveryId: string, status: number | null, now: number): void;
  deliveryRetry(deliveryId: string, status: number | null, error: string, nextAttemptAt: number): void;
  deliveryFailed(deliveryId: string, status: number | null, error: string): void;
}

export type DeliveryResult =
  | { ok: true; status?: number }
  | { ok: false; retriable: boolean; status?: number; error: string; retryAfterMs?: number };

/** Sends one delivery to its receiver (webhook, CAP endpoint, NATS subject, Kafka topic). */
export interface NotificationTransport {
  send(delivery: StoredDelivery): Promise<DeliveryResult>;
}

/** A CAP message of a stored alert version: its GB/T 35965.1 identifier and `sent` time (the second). */
export interface CapMessageRef {
  version: number;
  identifier: string;
  sent: number;
}

/** A version's CAP message and the one it references (the alert's previous message), or null. */
export interface CapNumbered {
  message: CapMessageRef;
  previous: { identifier: string; sent: number } | null;
}

/**
 * Where the CAP renderer takes identifiers from: the embedded store numbers them itself in
 * single mode; in cluster mode they come from the global task (docs/cluster.md §10) and a
 * version not numbered yet is undefined.
 */
export interface CapMessages {
  capNumberOf(a: Alert): CapNumbered | undefined;
}

export interface CommittedAlertEvent {
  seq: number;
  action: AlertChange['action'];
  alert: Alert;
}

export type PartialGrouping = 'bucket-and-tags' | 'tags' | 'bucket';

/** Reads KPI partials: the embedded store or InfluxDB. */
export interface KpiReader {
  /**
   * Partial rows of a family with bucket start in [from, to), merged across writers
   * and, depending on `grouping`, across time ('tags') or across tags ('bucket').
   */
  partialRows(family: string, from: number, to: number, grouping: PartialGrouping): Promise<PartialRow[]>;
  /**
   * A gauge over [from, to) grouped by `groupBy`, from rollups and per-series aggregates
   * (kpis/gauge-rollups.ts) where the store has them: a store that pulls every minute's
   * partial over the network (InfluxDB) implements it; the others answer from partialRows.
   */
  gaugeParts?(def: GaugeKpi, from: number, to: number, groupBy: readonly string[]): Promise<GaugeParts>;
}

export interface AlertFilter {
  status?: AlertStatus | 'active';
  severity?: Severity;
  category?: AlertCategory;
  district?: string;
  entityId?: string;
  limit: number;
  cursor?: string;
}

/** The filters the alert list and the SSE stream share. */
export type AlertStreamFilter = Pick<AlertFilter, 'severity' | 'category' | 'district' | 'entityId'> & { status?: AlertStatus | 'active' };

export interface AlertReader {
  listAlerts(filter: AlertFilter): { items: Alert[]; nextCursor: string | null };
  getAlert(id: string): Alert | undefined;
  /** Alert transitions after `seq`, oldest first (SSE resume). */
  alertEventsAfter(seq: number, limit: number): CommittedAlertEvent[];
  lastAlertEventSeq(): number;
  countAlerts(): Array<{ severity: Severity; status: AlertStatus; count: number }>;
}

export interface StoredDeadLetter extends DeadLetter {
  seq: number;
}

export interface DeadLetterReader {
  listDeadLetters(limit: number, cursor?: string): { items: StoredDeadLetter[]; nextCursor: string | null };
}

/** Where alert transitions are announced after they are stored (SSE, NATS, Kafka). */
export interface AlertAnnouncer {
  announce(events: readonly CommittedAlertEvent[]): void | Promise<void>;
}

/** Where invalid records are forwarded besides the dead-letter store (Kafka/NATS `huitian.dlq`). */
export interface DeadLetterForwarder {
  forward(letters: readonly DeadLetter[]): Promise<void>;
}
