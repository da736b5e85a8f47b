/**
 * The notification outbox of a cluster (docs/cluster.md §10): `G.notifications`, compacted,
 * key `d|<delivery id>` → the delivery with its state, `s|<silence id>` → the silence,
 * `c|<alert id>|<version>` → the CAP identifier the global task gave that alert version.
 * Every instance reads it into the outbox and silence tables of its data file (so
 * `GET /v1/notifications` and `/v1/silences` answer alike everywhere); the owner of the
 * global stage writes the deliveries its stage decides, and its worker writes each outcome
 * back under the same key, so whoever owns the stage next knows what was delivered and
 * sends only what is still pending.
 */
import type { Message } from 'kafkajs';
import type { CapAssignment } from './cap-numbering.js';
import type { Silence } from '../notifications/silences.js';
import type { DeliveryOutbox, DeliveryState, OutboxDelivery, StoredDelivery } from '../ports.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';

export type NotificationRecord =
  | { type: 'delivery'; delivery: OutboxDelivery; state: DeliveryState; status?: number | null; error?: string | null; at?: number }
  | { type: 'silence'; silence: Silence }
  | ({ type: 'cap' } & CapAssignment);

export function deliveryMessage(delivery: OutboxDelivery, state: DeliveryState = 'pending', outcome: { status?: number | null; error?: string | null; at?: number } = {}): Message {
  const record: NotificationRecord = { type: 'delivery', delivery, state, ...outcome };
  return { key: `d|${delivery.deliveryId}`, value: JSON.stringify(record) };
}

export function silenceMessage(silence: Silence): Message {
  const record: NotificationRecord = { type: 'silence', silence };
  return { key: `s|${silence.id}`, value: JSON.stringify(record) };
}

export function capMessage(c: CapAssignment): Message {
  const record: NotificationRecord = { type: 'cap', ...c };
  return { key: `c|${c.alertId}|${c.version}`, value: JSON.stringify(record) };
}

/**
 * Applies records of `G.notifications` to the local tables. A delivery is inserted once
 * (its id is deterministic); an outcome moves a pending row to delivered or failed, never
 * back: a repeat of the pending record after its outcome (a stage re-read) changes nothing.
 * Returns whether a pending delivery was added (the worker has something to do).
 */
export function applyNotificationRecords(store: EmbeddedStore, messages: ReadonlyArray<{ value: Buffer | null }>): boolean {
  let added = false;
  const deliveries: OutboxDelivery[] = [];
  const silences: Silence[] = [];
  const outcomes: Array<Extract<NotificationRecord, { type: 'delivery' }>> = [];
  const caps: CapAssignment[] = [];
  for (const m of messages) {
    if (m.value === null) continue;
    let r: NotificationRecord;
    try {
      r = JSON.parse(m.value.toString('utf8')) as NotificationRecord;
    } catch {
      continue;
    }
    if (r.type === 'silence') silences.push(r.silence);
    else if (r.type === 'cap') caps.push(r);
    else if (r.type === 'delivery') {
      deliveries.push(r.delivery);
      if (r.state === 'pending') added = true;
      else outcomes.push(r);
    }
  }
  // Before the deliveries of the same records: the owner wrote a version's number first.
  if (caps.length > 0) store.mirrorCapMessages(caps);
  if (deliveries.length > 0 || silences.length > 0) store.commit({ log: null, partials: [], alerts: [], deadLetters: [], deliveries, silences });
  for (const o of outcomes) {
    const row = store.getDelivery(o.delivery.deliveryId);
    if (row === undefined || row.state !== 'pending') continue;
    if (o.state === 'delivered') store.deliveryDone(row.deliveryId, o.status ?? null, o.at ?? 0);
    else store.deliveryFailed(row.deliveryId, o.status ?? null, o.error ?? 'failed');
  }
  return added;
}

/** The owner's outbox: the local mirror, with each final outcome also written to `G.notifications`. */
export class ClusterOutbox implements DeliveryOutbox {
  constructor(
    private readonly store: EmbeddedStore,
    /** Writes a record to `G.notifications` (acks from all in-sync replicas); failures are the writer's to log. */
    private readonly write: (m: Message) => void,
  ) {}

  dueDeliveries(now: number, limit: number): StoredDelivery[] {
    return this.store.dueDeliveries(now, limit);
  }

  headDeliveries(): Array<{ receiver: string; nextAttemptAt: number }> {
    return this.store.headDeliveries();
  }

  deliveryDone(deliveryId: string, status: number | null, now: number): void {
    this.store.deliveryDone(deliveryId, status, now);
    this.publish(deliveryId, 'delivered', { status, at: now });
  }

  /** A retry stays local: the next owner starts the delivery's backoff afresh. */
  deliveryRetry(deliveryId: string, status: number | null, error: string, nextAttemptAt: number): void {
    this.store.deliveryRetry(deliveryId, status, error, nextAttemptAt);
  }

  deliveryFailed(deliveryId: string, status: number | null, error: string): void {
    this.store.deliveryFailed(deliveryId, status, error);
    this.publish(deliveryId, 'failed', { status, error });
  }

  private publish(deliveryId: string, state: DeliveryState, outcome: { status?: number | null; error?: string | null; at?: number }): void {
    const d = this.store.getDelivery(deliveryId);
    if (d === undefined) return;
    const delivery: OutboxDelivery = {
      deliveryId: d.deliveryId,
      notificationId: d.notificationId,
      idempotencyKey: d.idempotencyKey,
      receiver: d.receiver,
      route: d.route,
      reason: d.reason,
      eventAt: d.eventAt,
      alertIds: d.alertIds,
      contentType: d.contentType,
      body: d.body,
    };
    this.write(deliveryMessage(delivery, state, outcome));
  }
}
