/**
 * How a delivery reaches its receiver (NotificationTransport, src/ports.ts):
 * - webhook and cap: an HTTP POST of the body, signed (src/delivery/signature.ts), with
 *   `Idempotency-Key` and `X-Huitian-Delivery`; 2xx is delivered; 408, 425, 429, 5xx, a
 *   refused connection or a timeout are retried (honouring `Retry-After`); any other
 *   answer is refused for good and the delivery is marked failed;
 * - nats: a publish on the subject, confirmed by a flush (the server has it);
 * - kafka: a produce to the topic with acks from all in-sync replicas, key = idempotency key.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Producer } from 'kafkajs';
import type { ReceiverConfig } from '../notifications/notifications-config.js';
import type { DeliveryResult, NotificationTransport, StoredDelivery } from '../ports.js';
import { signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.js';

const RETRIABLE_STATUS = new Set([408, 425, 429]);
/** A Retry-After beyond this is not honoured as is (a receiver asking for a day back off). */
const MAX_RETRY_AFTER_MS = 3600_000;

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    ms = t - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

export class HttpTransport implements NotificationTransport {
  constructor(
    private readonly receiver: Extract<ReceiverConfig, { type: 'webhook' | 'cap' }>,
    private readonly wallClock: () => number,
  ) {}

  async send(d: StoredDelivery): Promise<DeliveryResult> {
    const now = this.wallClock();
    const h: Record<string, string> = {
      ...this.receiver.headers,
      'content-type': d.contentType === 'application/json' ? 'application/json; charset=utf-8' : `${d.contentType}; charset=utf-8`,
      'user-agent': 'huitian-brain',
      'idempotency-key': d.idempotencyKey,
      'x-huitian-delivery': d.deliveryId,
    };
    if (this.receiver.secret !== undefined) {
      const ts = Math.floor(now / 1000);
      h[TIMESTAMP_HEADER] = String(ts);
      h[SIGNATURE_HEADER] = signBody(this.receiver.secret, ts, d.body);
    }
    let res: Response;
    try {
      res = await fetch(this.receiver.url, { method: 'POST', headers: h, body: d.body, signal: AbortSignal.timeout(this.receiver.timeoutSeconds * 1000), redirect: 'manual' });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, retriable: true, error: e.name === 'TimeoutError' ? `no answer within ${this.receiver.timeoutSeconds} s` : `${e.cause?.code ?? e.name}: ${e.message}` };
    }
    // The body is not needed; reading it lets the connection be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    const retriable = res.status >= 500 || RETRIABLE_STATUS.has(res.status);
    const result: DeliveryResult = { ok: false, retriable, status: res.status, error: `HTTP ${res.status}` };
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now);
    if (retriable && retryAfter !== undefined) result.retryAfterMs = retryAfter;
    return result;
  }
}

export class NatsTransport implements NotificationTransport {
  constructor(
    private readonly subject: string,
    private readonly nc: () => NatsConnection | undefined,
  ) {}

  async send(d: StoredDelivery): Promise<DeliveryResult> {
    const nc = this.nc();
    if (nc === undefined) return { ok: false, retriable: true, error: 'NATS is not connected (HUITIAN_NATS_URL)' };
    try {
      const h = natsHeaders();
      h.set('Idempotency-Key', d.idempotencyKey);
      h.set('Huitian-Delivery', d.deliveryId);
      h.set('Content-Type', d.contentType);
      nc.publish(this.subject, d.body, { headers: h });
      await nc.flush();
      return { ok: true };
    } catch (err) {
      return { ok: false, retriable: true, error: (err as Error).message };
    }
  }
}

export class KafkaTransport implements NotificationTransport {
  constructor(
    private readonly topic: string,
    private readonly producer: () => Producer | undefined,
  ) {}

  async send(d: StoredDelivery): Promise<DeliveryResult> {
    const p = this.producer();
    if (p === undefined) return { ok: false, retriable: true, error: 'Kafka is not connected (HUITIAN_KAFKA_BROKERS)' };
    try {
      await p.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: d.idempotencyKey, value: d.body, headers: { 'content-type': d.contentType, 'huitian-delivery': d.deliveryId, 'idempotency-key': d.idempotencyKey } }],
      });
      return { ok: true };
    } catch (err) {
      return { ok: false, retriable: true, error: (err as Error).message };
    }
  }
}
