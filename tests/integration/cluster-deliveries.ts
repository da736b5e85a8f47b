/**
 * The cluster notification tests (replay and live mode; docs/cluster.md §10): their setting
 * (one waterlogging topic of 6 partitions, a receiver on 127.0.0.1, a configuration file), and
 * what they check of the receiver's calls after a handoff of the notification stage: each
 * delivery received at least once, a repeat the same delivery (same idempotency key and body),
 * one delivery per alert transition, and what every survivor lists and shows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { expect } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-client.js';
import { createLogger } from '../../src/logger.js';
import { TestReceiver, type ReceivedCall } from '../helpers/receiver.js';
import { tempDir } from '../helpers/service.js';
import { ClusterHarness, type Member } from './cluster-helpers.js';
import { waitFor } from './helpers.js';

/** A waterlogging topic of 6 partitions, its members' harness, a receiver and a configuration file naming it. */
export class NotificationSetting {
  readonly topic: string;
  readonly cluster: ClusterHarness;
  readonly receiver = new TestReceiver();
  private producerOrUndefined: Producer | undefined;
  configFile = '';

  constructor(
    private readonly brokers: string,
    private readonly prefix: string,
  ) {
    this.topic = `${prefix}.waterlogging`;
    this.cluster = new ClusterHarness(brokers, [this.topic], `${prefix}.dlq`);
  }

  get producer(): Producer {
    if (this.producerOrUndefined === undefined) throw new Error('NotificationSetting: setUp() first');
    return this.producerOrUndefined;
  }

  /** Creates the topic, connects a producer, starts the receiver and writes `{notifications}` (given the receiver) to the file. */
  async setUp(notifications: (receiver: TestReceiver) => unknown): Promise<void> {
    const kafka = createKafka([this.brokers], this.prefix, createLogger('warn'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 6 }], waitForLeaders: true });
    await admin.disconnect();
    this.producerOrUndefined = kafka.producer();
    await this.producerOrUndefined.connect();
    await this.receiver.start();
    this.configFile = join(tempDir(`huitian-${this.prefix.slice(0, 3)}-`), 'config.json');
    writeFileSync(this.configFile, JSON.stringify({ notifications: notifications(this.receiver) }));
  }

  async tearDown(): Promise<void> {
    this.cluster.killAll();
    await this.producerOrUndefined?.disconnect();
    await this.receiver.stop();
  }
}

export interface WebhookBody {
  idempotencyKey: string;
  deliveryId: string;
  alerts: Array<{ action: string; version: number; alert: { id: string; openedAt: string; history?: Array<{ at: string; action: string }> } }>;
}

export interface ReceivedDelivery {
  key: string;
  delivery: string;
  body: string;
  parsed: WebhookBody;
  /** Index of the call in the receiver's list: calls are kept in the order they arrived. */
  index: number;
}

/** The webhook calls at `path` that were answered 200. */
export function receivedDeliveries(calls: readonly ReceivedCall[], path = '/hook'): ReceivedDelivery[] {
  const out: ReceivedDelivery[] = [];
  calls.forEach((c, index) => {
    if (c.status !== 200 || c.path !== path) return;
    out.push({ key: String(c.headers['idempotency-key']), delivery: String(c.headers['x-huitian-delivery']), body: c.body, parsed: JSON.parse(c.body) as WebhookBody, index });
  });
  return out;
}

/** `<alert id> <action>` of every transition the deliveries carry. */
export function transitionsOf(received: readonly ReceivedDelivery[]): Set<string> {
  return new Set(received.flatMap((r) => r.parsed.alerts.map((a) => `${a.alert.id} ${a.action}`)));
}

/** Waits until the receiver's webhook deliveries carry every transition (`<alert id> <action>`) `want` gives. */
export function waitForTransitions(cluster: ClusterHarness, receiver: TestReceiver, what: string, want: () => readonly string[], timeoutMs: number, everyMs = 200): Promise<true> {
  const missing = () => {
    const got = transitionsOf(receivedDeliveries(receiver.calls));
    return want().filter((t) => !got.has(t));
  };
  return waitFor(what, () => (want().length > 0 && missing().length === 0 ? true : undefined), timeoutMs, everyMs, () => ({ missing: missing(), detail: cluster.detail() }));
}

/**
 * A repeat is the same delivery (same key, same body); with groupWaitSeconds 0 each carries
 * one alert, keyed `<alert id>:<version>`; each transition of an alert is one delivery (no
 * second decision under another key). Returns the deliveries by id.
 */
export function expectRepeatsIdentical(received: readonly ReceivedDelivery[]): Map<string, ReceivedDelivery[]> {
  const byDelivery = new Map<string, ReceivedDelivery[]>();
  for (const r of received) byDelivery.set(r.delivery, [...(byDelivery.get(r.delivery) ?? []), r]);
  for (const [, copies] of byDelivery) {
    expect(new Set(copies.map((c) => c.key)).size).toBe(1);
    expect(new Set(copies.map((c) => c.body)).size).toBe(1);
    const only = copies[0]!.parsed.alerts;
    expect(only).toHaveLength(1);
    expect(copies[0]!.key).toBe(`${only[0]!.alert.id}:${only[0]!.version}`);
  }
  const keysPerTransition = new Map<string, Set<string>>();
  for (const r of received) {
    for (const a of r.parsed.alerts) {
      const t = `${a.alert.id} ${a.action}`;
      keysPerTransition.set(t, (keysPerTransition.get(t) ?? new Set()).add(r.key));
    }
  }
  for (const [t, keys] of keysPerTransition) expect(keys.size, t).toBe(1);
  return byDelivery;
}

export interface ListedDelivery {
  deliveryId: string;
  idempotencyKey: string;
  state: string;
}

/** Waits until every survivor lists its deliveries, all delivered (nothing pending once the new owner is done). */
export function deliveredOnEverySurvivor(cluster: ClusterHarness, survivors: readonly Member[], timeoutMs = 60_000): Promise<ListedDelivery[][]> {
  return waitFor(
    'every delivery delivered on every survivor',
    async () => {
      const out: ListedDelivery[][] = [];
      for (const m of survivors) {
        const page = await cluster.get<{ items: ListedDelivery[] }>(m, '/v1/notifications?limit=500');
        if (page.items.length === 0 || page.items.some((d) => d.state !== 'delivered')) return undefined;
        out.push(page.items);
      }
      return out;
    },
    timeoutMs,
    500,
  );
}

/**
 * Waits until every survivor's alert view shows each of the stage's history entries `want`
 * names (action → the alerts that must have it, e.g. `{escalated_to: [...], silenced: [...]}`):
 * they reach the owning task as commands after the stage decided them, an alert resolved
 * meanwhile included (docs/cluster.md §10).
 */
export function stageEntriesInEveryView(cluster: ClusterHarness, survivors: readonly Member[], want: Readonly<Record<string, readonly string[]>>, timeoutMs = 60_000): Promise<true> {
  const missing = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const m of survivors) {
      const view = await cluster.alerts(m);
      for (const [action, ids] of Object.entries(want)) {
        for (const id of ids) if (!(view.get(id)?.history ?? []).some((h) => h.action === action)) out.push(`${m.name}: ${id} ${action}`);
      }
    }
    return out;
  };
  let last: string[] = [];
  return waitFor(
    'every stage entry in every survivor’s alert history',
    async () => {
      last = await missing();
      return last.length === 0 ? true : undefined;
    },
    timeoutMs,
    500,
    () => last,
  );
}
