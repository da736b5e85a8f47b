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
import type { NotificationTransport, StoredDelivery } from '../ports.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';

export interface OutboxWorkerOptions {
  store: EmbeddedStore;
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
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<string>();

  constructor(private readonly o: OutboxWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** New deliveries were committed, or a retry is due. */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      } else this.schedule();
    });
  }

  /** Resolves when nothing is due now (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const next = this.o.store.nextDeliveryAt();
    if (next === null) return;
    const delay = Math.min(Math.max(next - this.o.wallClock(), 0), 60_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delay + 5);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      this.again = false;
      const due = this.o.store.dueDeliveries(this.o.wallClock(), BATCH).filter((d) => !this.inFlight.has(d.receiver));
      if (due.length === 0) return;
      // One attempt per receiver at a time, all receivers at once.
      await Promise.all(due.map((d) => this.attempt(d)));
    }
  }

  private async attempt(d: StoredDelivery): Promise<void> {
    const { store, metrics, logger } = this.o;
    const transport = this.o.transports.get(d.receiver);
    if (transport === undefined) {
      store.deliveryFailed(d.deliveryId, null, `no receiver named ${d.receiver} in the configuration`);
      metrics.notificationDeliveries.inc({ receiver: d.receiver, outcome: 'failed' });
      return;
    }
    this.inFlight.add(d.receiver);
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
    } finally {
      this.inFlight.delete(d.receiver);
    }
  }
}
