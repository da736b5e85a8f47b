/** Shared plumbing for the integration tests against real Kafka, NATS and InfluxDB. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { loadConfig, type ConfigOverrides } from '../../src/config.js';
import { DEFAULT_ENGINE_CONFIG, DEFAULT_MAX_FUTURE_MS, Engine } from '../../src/engine/engine.js';
import { decodeJson } from '../../src/events/decode.js';
import { entityKeyOf } from '../../src/events/routing.js';
import type { AlertChange } from '../../src/alerts/alert.js';
import { createLogger } from '../../src/logger.js';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import type { PartialDelta } from '../../src/kpis/partials.js';
import { evaluateKpi, type KpiResult } from '../../src/kpis/query.js';
import { createService, type Service } from '../../src/service.js';
import { checkEveryAnswer } from '../helpers/openapi-conformance.js';

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export async function createInfluxDatabase(influxUrl: string, name: string): Promise<void> {
  const res = await fetch(`${influxUrl}/query?q=${encodeURIComponent(`CREATE DATABASE "${name}"`)}`, { method: 'POST' });
  if (!res.ok) throw new Error(`CREATE DATABASE ${name}: ${res.status} ${await res.text()}`);
}

/** Creates `topics` with 3 partitions each, and returns a connected producer. */
export async function createTopicsAndProducer(kafka: Kafka, topics: readonly string[]): Promise<Producer> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

export interface TopicMessage {
  topic: string;
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

/** A fixture line as a record on `${prefix}.<domain of its type>`, keyed by its entity, as producers write them. */
export function fixtureRecord(prefix: string, e: { type: string; line: string }): TopicMessage {
  return { topic: `${prefix}.${e.type.split('.')[1]}`, key: entityKeyOf(JSON.parse(e.line)) ?? null, value: e.line };
}

/** Sends `messages` in order, `chunkSize` at a time, each chunk one batch grouped by topic. */
export async function sendByTopic(producer: Producer, messages: readonly TopicMessage[], chunkSize = 500): Promise<void> {
  for (let i = 0; i < messages.length; i += chunkSize) {
    const byTopic = new Map<string, Array<Omit<TopicMessage, 'topic'>>>();
    for (const { topic, ...message } of messages.slice(i, i + chunkSize)) {
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(message);
    }
    await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
  }
}

/** Answers of the services started here that their OpenAPI document does not declare. */
export const nonConforming: string[] = [];

export async function startTestService(overrides: ConfigOverrides): Promise<Service> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-it-'));
  const config = loadConfig({}, { dataDir, port: 0, timeMode: 'replay', logLevel: 'warn', ...overrides });
  const service = await createService(config, { logger: createLogger(process.env.HUITIAN_TEST_LOG ?? 'warn') });
  checkEveryAnswer(service.app, nonConforming);
  await service.start();
  return service;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 250,
  detail?: () => unknown,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const state = detail === undefined ? '' : `\nstate: ${JSON.stringify(detail())}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}${state}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Reference {
  partials: PartialDelta[];
  alerts: AlertChange[];
  accepted: number;
  duplicates: number;
}

/** The uninterrupted run: a pure engine fed the same lines in order, on one channel. */
export function referenceRun(lines: readonly string[]): Reference {
  const engine = new Engine({ ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay', maxFutureMs: DEFAULT_MAX_FUTURE_MS.replay });
  const ref: Reference = { partials: [], alerts: [], accepted: 0, duplicates: 0 };
  for (const line of lines) {
    const d = decodeJson(line);
    if (!d.ok) continue;
    const step = engine.ingest([d.event], 'ref', 0, true);
    ref.partials.push(...step.partials);
    ref.alerts.push(...step.alerts);
    if (step.outcomes[0] === 'accepted') ref.accepted++;
    if (step.outcomes[0] === 'duplicate') ref.duplicates++;
  }
  return ref;
}

export const WIDE_FROM = Date.parse('2026-07-20T00:00:00Z');
export const WIDE_TO = Date.parse('2026-07-23T00:00:00Z');

/** Every KPI, overall and by each of its group tags, over a wide range. */
export function expectedKpis(ref: Reference): Record<string, KpiResult> {
  const out: Record<string, KpiResult> = {};
  for (const def of KPI_CATALOGUE) {
    const rows = ref.partials.filter((p) => p.family === def.family);
    out[`${def.name}`] = evaluateKpi(def, rows, WIDE_FROM, WIDE_TO);
    for (const g of def.groupTags) out[`${def.name}?groupBy=${g}`] = evaluateKpi(def, rows, WIDE_FROM, WIDE_TO, [g]);
  }
  return out;
}

/** The same KPIs as answered by the service's HTTP API (from its configured KPI store). */
export async function serviceKpis(service: Service): Promise<Record<string, KpiResult>> {
  const out: Record<string, KpiResult> = {};
  const range = `from=${encodeURIComponent(new Date(WIDE_FROM).toISOString())}&to=${encodeURIComponent(new Date(WIDE_TO).toISOString())}`;
  for (const def of KPI_CATALOGUE) {
    for (const g of [undefined, ...def.groupTags]) {
      const res = await service.app.inject({ method: 'GET', url: `/v1/kpis/${def.name}?${range}${g === undefined ? '' : `&groupBy=${g}`}` });
      if (res.statusCode !== 200) throw new Error(`GET /v1/kpis/${def.name}: ${res.statusCode} ${res.body}`);
      const body = res.json() as KpiResult;
      out[g === undefined ? def.name : `${def.name}?groupBy=${g}`] = { ...body, from: WIDE_FROM, to: WIDE_TO };
    }
  }
  return out;
}

/** Rounds floats so sums computed in a different order (InfluxDB) compare equal. */
export function normalise<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e9) / 1e9 : v))) as T;
}

/**
 * Waits until the service has taken in everything the reference did, its watermark has
 * reached the end of the stream (every partition read and marked caught up), and its
 * KPI outbox is written to InfluxDB.
 */
export async function waitForSettled(service: Service, ref: Reference, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    'the service to consume the whole stream, reach its end in event time and write InfluxDB',
    () => {
      const s = service.pipeline.engine.stats();
      const atEnd = s.maxEventTime !== null && s.watermark === s.maxEventTime - 60_000;
      return s.accepted === ref.accepted && atEnd && service.store.outboxSize() === 0 ? true : undefined;
    },
    timeoutMs,
    250,
    () => ({ expectedAccepted: ref.accepted, stats: service.pipeline.engine.stats(), outbox: service.store.outboxSize() }),
  );
  // A flush may still be in flight for the last step; give it a moment, then re-check.
  await service.pipeline.flushSink();
}
