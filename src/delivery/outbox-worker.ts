/**
 * Delivers the notification outbox (SQLite, written in the same commit as the alert
 * transitions it is about) at least once: each receiver's deliveries in order, one at a
 * time, so a receiver that is down holds back only its own queue; a failed attempt is
 * retried with exponential backoff (or the receiver's `Retry-After`), across restarts —
 * the outbox is on disk and a delivery leaves it only when the receiver took it. The
 * worker runs beside the pipeline on the event loop and never holds up ingest: its
 * network calls are asynchronous with a timeout, its store updates are single-row writes.
 */
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../metrics.js';
import type { DeliveryOutbox, NotificationTransport, StoredDelivery } from '../ports.js';

export interface OutboxWorkerOptions {
  /** The embedded store's outbox, or a cluster owner's (src/cluster/cluster-outbox.ts). */
  store: DeliveryOutbox;
  transports: ReadonlyMap<string, NotificationTransport>;
  logger: Logger;
  metrics: ServiceMetrics;
  wallClock: () => number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Random factor in [0, 1) for jitter; injected so tests can fix it. */
  random?: () => number;
}

const BATCH = 64;

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Receivers with an attempt under way, and those attempts. */
  private readonly inFlight = new Set<string>();
  private readonly attempts = new Set<Promise<void>>();

  constructor(private readonly o: OutboxWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  /**
   * New deliveries were committed, a retry is due, or an attempt ended: starts an attempt
   * for every receiver whose oldest delivery is due and that has none under way. Each
   * receiver goes at its own pace: one that hangs until its timeout holds back only itself.
   */
  wake(): void {
    if (this.stopped) return;
    const due = this.o.store.dueDeliveries(this.o.wallClock(), BATCH).filter((d) => !this.inFlight.has(d.receiver));
    for (const d of due) {
      this.inFlight.add(d.receiver);
      const p: Promise<void> = this.attempt(d).finally(() => {
        this.inFlight.delete(d.receiver);
        this.attempts.delete(p);
        this.wake();
      });
      this.attempts.add(p);
    }
    this.schedule();
  }

  /** Resolves when no attempt is under way and nothing is due now (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.attempts.size > 0) await Promise.all([...this.attempts]);
  }

  /** Sleeps until the earliest retry of a receiver with nothing under way. */
  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    let next: number | null = null;
    for (const h of this.o.store.headDeliveries()) {
      if (!this.inFlight.has(h.receiver) && (next === null || h.nextAttemptAt < next)) next = h.nextAttemptAt;
    }
    if (next === null) return;
    const delay = Math.min(Math.max(next - this.o.wallClock(), 0), 60_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delay + 5);
    this.timer.unref();
  }

  private async attempt(d: StoredDelivery): Promise<void> {
    const { store, metrics, logger } = this.o;
    const transport = this.o.transports.get(d.receiver);
    if (transport === undefined) {
      store.deliveryFailed(d.deliveryId, null, `no receiver named ${d.receiver} in the configuration`);
      metrics.notificationDeliveries.inc({ receiver: d.receiver, outcome: 'failed' });
      return;
    }
    const started = performance.now();
    try {
      const result = await transport.send(d);
      metrics.notificationDeliveryDuration.observe({ receiver: d.receiver }, (performance.now() - started) / 1000);
      if (this.stopped && !result.ok) return;
      const now = this.o.wallClock();
      if (result.ok) {
        store.deliveryDone(d.deliveryId, result.status ?? null, now);
        metrics.notificationDeliveries.inc({ receiver: d.receiver, outcome: 'delivered' });
      } else if (result.retriable) {
        const backoff = Math.min(this.o.initialBackoffMs * 2 ** Math.min(d.attempts, 20), this.o.maxBackoffMs);
        const jittered = backoff * (0.5 + 0.5 * (this.o.random ?? Math.random)());
        const delay = result.retryAfterMs ?? jittered;
        store.deliveryRetry(d.deliveryId, result.status ?? null, result.error, Math.round(now + delay));
        metrics.notificationDeliveries.inc({ receiver: d.receiver, outcome: 'retry' });
        logger.warn({ receiver: d.receiver, deliveryId: d.deliveryId, attempt: d.attempts + 1, error: result.error, retryInMs: Math.round(delay) }, 'notification delivery failed; will retry');
      } else {
        store.deliveryFailed(d.deliveryId, result.status ?? null, result.error);
        metrics.notificationDeliveries.inc({ receiver: d.receiver, outcome: 'failed' });
        logger.error({ receiver: d.receiver, deliveryId: d.deliveryId, error: result.error }, 'notification refused by its receiver; not retried');
      }
    } catch (err) {
      logger.error({ err, deliveryId: d.deliveryId }, 'notification delivery crashed; will retry');
      store.deliveryRetry(d.deliveryId, null, (err as Error).message, this.o.wallClock() + this.o.maxBackoffMs);
    }
  }
}
