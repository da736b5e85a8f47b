/**
 * The wiring module: builds the running service from the configuration — the embedded
 * store, the pipeline and its engine, the HTTP API, and (when configured) the Kafka
 * and NATS sources, the InfluxDB KPI store and the alert publishers. Nothing else in
 * src/ decides which adapters run.
 */
import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isLoopback, type ServiceConfig } from './config.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from './engine/engine.js';
import { AlertStreamHub } from './http/alert-stream.js';
import type { ReadinessCheck } from './http/app-deps.js';
import { buildApp } from './http/app.js';
import { ServiceMetrics } from './metrics.js';
import { Pipeline } from './pipeline/pipeline.js';
import type { CapMessages, KpiReader } from './ports.js';
import { openDatabase } from './sqlite/database.js';
import { EmbeddedStore } from './sqlite/embedded-store.js';
import { InfluxKpiStore } from './influx/influx-kpi-store.js';
import { createKafka } from './kafka/kafka-client.js';
import { KafkaPublisher } from './kafka/kafka-publishers.js';
import { KafkaSource } from './kafka/kafka-source.js';
import { connectNats } from './nats/nats-connection.js';
import { NatsPublisher } from './nats/nats-publisher.js';
import { NatsSource } from './nats/nats-source.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Producer } from 'kafkajs';
import { capRenderer } from './delivery/cap-render.js';
import { OutboxWorker } from './delivery/outbox-worker.js';
import { DeliveryPlanner } from './delivery/planner.js';
import { HttpTransport, KafkaTransport, NatsTransport } from './delivery/transports.js';
import type { NotificationTransport } from './ports.js';
import { ClusterRuntime } from './cluster/cluster-runtime.js';

/** A source of events (Kafka, NATS); HTTP ingest is part of the API. */
export interface EventSource {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** null when consuming normally, else what is wrong. */
  problem(): string | null;
}

export interface Service {
  readonly config: ServiceConfig;
  readonly app: FastifyInstance;
  readonly pipeline: Pipeline;
  readonly store: EmbeddedStore;
  /** Delivers the notification outbox. */
  readonly outbox: OutboxWorker;
  /** Set in cluster mode (docs/cluster.md). */
  readonly cluster?: ClusterRuntime;
  /** Starts sources and the clock, then listens; resolves to the address listened on. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  logger: Logger;
  /** Injected so tests can drive time; the service itself is the only caller of Date.now. */
  wallClock?: () => number;
  /** Live-mode clock tick interval. */
  tickMs?: number;
  /** A durable commit failed: the process should exit so a restart recovers. */
  onFatal?: (err: Error) => void;
  /** The built console's directory (default dist/console). */
  consoleDir?: string;
}

export function engineConfigOf(config: ServiceConfig): EngineConfig {
  return {
    ...DEFAULT_ENGINE_CONFIG,
    latenessMs: config.latenessS * 1000,
    timeMode: config.timeMode,
    idleTimeoutMs: config.idleTimeoutS * 1000,
    fireClockStart: config.fireClockStart,
    rules: config.rules,
    timeZone: config.timeZone,
    maxFutureMs: config.maxFutureS * 1000,
    dedupMaxBytes: config.dedupMaxMb * 1024 * 1024,
    dedupHashSeed: randomInt(0x7fffffff),
  };
}

export async function createService(config: ServiceConfig, options: ServiceOptions): Promise<Service> {
  const logger = options.logger;
  const wallClock = options.wallClock ?? Date.now;
  const db = openDatabase(config.dataDir, config.sqliteSync);
  const store = new EmbeddedStore(db);
  store.wallClock = wallClock;
  const notifications = config.notifications;
  store.capIssuerCode = notifications.cap.issuerCode;
  const clusterMode = config.kafkaBrokers.length > 0 && config.kafkaMode === 'cluster';
  // In a cluster the global task numbers CAP identifiers (docs/cluster.md §10); the store mirrors them.
  store.capNumbering = !clusterMode;
  let clusterRef: ClusterRuntime | undefined;
  const capMessages: CapMessages = clusterMode ? { capNumberOf: (a) => (clusterRef ?? store).capNumberOf(a) } : store;
  const renderCap = capRenderer(capMessages, notifications.cap, config.timeMode === 'replay' ? notifications.cap.replayStatus : notifications.cap.status);
  let pipelineRef: Pipeline | undefined;
  const metrics = new ServiceMetrics(store, wallClock, () => pipelineRef?.engine.stats().maxEventTime ?? null, () => store.deliveryCounts());
  // Receivers on NATS or Kafka use the service's connections once they are up; until then
  // (or without them configured) their deliveries wait in the outbox and are retried.
  let natsConnection: NatsConnection | undefined;
  let kafkaProducer: Producer | undefined;
  const transports = new Map<string, NotificationTransport>();
  for (const [name, rc] of Object.entries(notifications.receivers)) {
    if (rc.type === 'webhook' || rc.type === 'cap') transports.set(name, new HttpTransport(rc, wallClock));
    else if (rc.type === 'nats') transports.set(name, new NatsTransport(rc.subject, () => natsConnection));
    else transports.set(name, new KafkaTransport(rc.topic, () => kafkaProducer));
  }
  // Set below, once the cluster (if any) is built: in cluster mode it delivers the mirror of G.notifications.
  let worker!: OutboxWorker;
  const hub = new AlertStreamHub();
  const readiness: ReadinessCheck[] = [
    {
      name: 'store',
      check: () => {
        db.prepare('SELECT 1').get();
        return null;
      },
    },
  ];

  let influx: InfluxKpiStore | undefined;
  if (config.influxUrl !== '') {
    influx = new InfluxKpiStore(
      { url: config.influxUrl, token: config.influxToken, org: config.influxOrg, bucket: config.influxBucket, writer: config.instanceId, logger, queryTimeoutMs: config.influxQueryTimeoutS * 1000 },
      store,
    );
    influx.onBacklog = (n) => metrics.sinkBacklog.set(n);
    store.outboxEnabled = true;
    const sink = influx;
    readiness.push({ name: 'influxdb', check: () => sink.problem() });
  }
  const planner = new DeliveryPlanner(notifications, renderCap, config.timeZone);
  const pipeline = new Pipeline({
    engineConfig: engineConfigOf(config),
    store,
    logger,
    metrics,
    wallClock,
    snapshotIntervalMs: config.snapshotIntervalS * 1000,
    announcers: [hub],
    kpiSink: influx,
    onFatal: options.onFatal,
    notifications,
    planner,
    onDeliveries: () => worker.wake(),
  });
  pipelineRef = pipeline;
  metrics.observeDedup(() => pipeline.engine.stats(), config.dedupMaxMb * 1024 * 1024);
  let cluster: ClusterRuntime | undefined;
  if (clusterMode) {
    cluster = new ClusterRuntime({
      kafka: createKafka(config.kafkaBrokers, `huitian-brain-${config.instanceId}`, logger),
      group: config.kafkaGroup,
      inputTopics: config.kafkaTopics,
      engineConfig: engineConfigOf(config),
      rules: config.rules,
      store,
      influx,
      announcers: [],
      viewAnnouncers: [hub],
      dlqTopic: config.dlqTopic,
      metrics,
      logger,
      wallClock,
      snapshotIntervalMs: config.snapshotIntervalS * 1000,
      sessionTimeoutMs: config.kafkaSessionTimeoutS * 1000,
      commandWaitMs: config.commandWaitMs,
      timeMode: config.timeMode,
      idleTimeoutMs: config.idleTimeoutS * 1000,
      dataDir: config.dataDir,
      partialsWorker: { brokers: [...config.kafkaBrokers], clientId: `huitian-brain-${config.instanceId}-partials`, logLevel: config.logLevel },
      onFatal: options.onFatal,
      notifications,
      planner,
    });
    const c = cluster;
    clusterRef = c;
    readiness.push({ name: 'cluster', check: () => c.problem() });
  }
  // Cluster mode: it delivers only while this instance owns the global stage, from the
  // outbox every instance mirrors from G.notifications (docs/cluster.md §10).
  worker = new OutboxWorker({
    store: cluster?.outbox ?? store,
    transports,
    logger,
    metrics,
    wallClock,
    initialBackoffMs: notifications.retry.initialSeconds * 1000,
    maxBackoffMs: notifications.retry.maxSeconds * 1000,
  });
  cluster?.setDeliveryWorker(worker);
  const kpis: KpiReader = influx ?? cluster?.partialsView ?? store;
  const sources: EventSource[] = [];
  const closers: Array<() => Promise<void>> = [];

  const connectTransports = async () => {
    if (cluster !== undefined) {
      await cluster.start();
      kafkaProducer = cluster.kafkaProducer;
    }
    if (config.kafkaBrokers.length > 0 && cluster === undefined) {
      const kafka = createKafka(config.kafkaBrokers, `huitian-brain-${config.instanceId}`, logger);
      const publisher = await KafkaPublisher.connect(kafka, config.dlqTopic, config.kafkaAlertsTopic === '' ? null : config.kafkaAlertsTopic, config.timeZone);
      pipeline.addForwarder(publisher);
      kafkaProducer = publisher.producer;
      if (config.kafkaAlertsTopic !== '') pipeline.addAnnouncer(publisher);
      closers.push(() => publisher.close());
      sources.push(new KafkaSource({ kafka, topics: config.kafkaTopics, groupId: config.kafkaGroup, pipeline, logger }));
    }
    if (config.natsUrl.length > 0) {
      const nc: NatsConnection = await connectNats(config.natsUrl, `huitian-brain-${config.instanceId}`);
      natsConnection = nc;
      const publisher = new NatsPublisher(nc, config.dlqTopic, config.timeZone);
      pipeline.addForwarder(publisher);
      if (cluster === undefined) pipeline.addAnnouncer(publisher);
      // Cluster mode: the owning task announces after the alert record is in Kafka.
      else cluster.addAnnouncer(publisher);
      const bridge = cluster;
      if (config.natsConsume) sources.push(new NatsSource({ nc, stream: config.natsStream, durable: config.natsConsumer, pipeline, logger, bridge }));
      closers.push(() => nc.drain());
    }
    for (const s of sources) readiness.push({ name: s.name, check: () => s.problem() });
  };

  const app = await buildApp({ config, logger, pipeline, alerts: store, deadLetters: store, kpis, metrics, hub, readiness, wallClock, store, renderCap, capMessages, consoleDir: options.consoleDir, cluster });
  let ticker: NodeJS.Timeout | undefined;
  let flusher: NodeJS.Timeout | undefined;
  let stopped = false;

  return {
    config,
    app,
    pipeline,
    store,
    outbox: worker,
    cluster,
    async start() {
      if (config.tokenRoles.size === 0) {
        logger.warn({ host: config.host }, 'no HUITIAN_TOKENS configured: authentication is off, listening on loopback only');
        if (!isLoopback(config.host)) throw new Error('refusing to listen beyond loopback without tokens');
      }
      await connectTransports();
      for (const s of sources) await s.start();
      if (cluster === undefined) worker.start();
      if (influx !== undefined && cluster === undefined) {
        // Retries what HTTP ingest or an earlier run left in the outbox while InfluxDB was away.
        let busy = false;
        flusher = setInterval(() => {
          if (busy) return;
          busy = true;
          pipeline
            .flushSink()
            .catch((err: unknown) => logger.warn({ err }, 'InfluxDB flush failed; will retry'))
            .finally(() => {
              busy = false;
            });
        }, 1000);
        flusher.unref();
      }
      if (config.timeMode === 'live' && cluster === undefined) {
        ticker = setInterval(() => {
          try {
            pipeline.tick();
          } catch (err) {
            logger.fatal({ err }, 'clock tick failed');
          }
        }, options.tickMs ?? 1000);
        ticker.unref();
      }
      const address = await app.listen({ host: config.host, port: config.port });
      logger.info({ address, dataDir: config.dataDir, timeMode: config.timeMode, stats: pipeline.engine.stats() }, 'huitian-brain listening');
      return address;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (ticker !== undefined) clearInterval(ticker);
      if (flusher !== undefined) clearInterval(flusher);
      for (const s of sources) await s.stop().catch((err: unknown) => logger.warn({ err, source: s.name }, 'source stop failed'));
      // The owner's worker first: its outcomes go to G.notifications through the cluster's producer.
      if (cluster !== undefined) await worker.stop();
      await cluster?.stop().catch((err: unknown) => logger.warn({ err }, 'cluster stop failed'));
      await app.close();
      await worker.stop();
      await pipeline.forwardsSettled();
      for (const close of closers) await close().catch((err: unknown) => logger.warn({ err }, 'closing a transport failed'));
      await pipeline.flushSink().catch((err: unknown) => logger.warn({ err }, 'final KPI flush failed; the outbox keeps it for the next start'));
      pipeline.snapshotNow();
      store.close();
      logger.info('huitian-brain stopped');
    },
  };
}
