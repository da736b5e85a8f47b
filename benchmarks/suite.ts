/**
 * The whole benchmark as one function: the figures of issue 5, each beside its target,
 * plus the details a reader needs to trust them. `run.ts` is its command line; a unit
 * test runs it on a tiny stream.
 */
import { cpus, totalmem } from 'node:os';
import { measureAlertLatency, type LatencyResult } from './alert-latency.js';
import { measureCheckpoint, type CheckpointResult, type DedupBoundResult } from './checkpoint.js';
import { measureHttp, type HttpResult } from './http-ingest.js';
import { measureInfluxQueries, type InfluxQueryResult } from './influx-query.js';
import { measureInProcess, type InProcessResult } from './in-process.js';
import { measureKafka, type KafkaResult } from './kafka.js';
import { measureMemory, type MemoryResult } from './memory.js';
import { parseDuration, parseStart, simulate } from '../src/simulator/simulate.js';
import { DEFAULT_CACHE_DIR, DEFAULT_STREAM, ensureStream, loadBatches, type Batch, type StreamSpec } from './stream.js';

export interface SuiteOptions {
  stream: StreamSpec;
  cacheDir: string;
  /** Lines per batch, in process and per HTTP request. */
  batchLines: number;
  /** Use only the first N lines of the stream. */
  maxEvents: number;
  crossings: number;
  /** Background readings per second during the second latency measurement. */
  backgroundEps: number;
  entities: number;
  /** The dedup memory bound of the checkpoint run, MB (the service's default). */
  dedupBoundMb: number;
  /** How long requests are timed while the service checkpoints. */
  checkpointSeconds: number;
  /** Node flags for the server child processes (e.g. --cpu-prof). */
  serverNodeFlags: string[];
  /** InfluxDB 1.8 for influx_query_ms_max ('' skips it; the command line passes HUITIAN_INFLUX_URL). */
  influxUrl: string;
  /** Kafka bootstrap broker for the cluster figures (issue 10); none: they are left out. */
  kafkaBrokers: string | undefined;
  /** Continuation records per second produced during the failover run, and seconds of it before the kill. */
  failoverEps: number;
  failoverKillAfterS: number;
  /** Whether the cluster figures include the failover run (off: failover_s is NaN; for profiling one instance). */
  failover: boolean;
  /** Progress lines (stderr by the command line). */
  progress: (line: string) => void;
}

export const DEFAULT_OPTIONS: SuiteOptions = {
  stream: DEFAULT_STREAM,
  cacheDir: DEFAULT_CACHE_DIR,
  batchLines: 5000,
  maxEvents: Number.POSITIVE_INFINITY,
  crossings: 200,
  backgroundEps: 10_000,
  entities: 100_000,
  dedupBoundMb: 256,
  checkpointSeconds: 15,
  serverNodeFlags: [],
  influxUrl: '',
  kafkaBrokers: undefined,
  failoverEps: 2000,
  failoverKillAfterS: 10,
  failover: true,
  progress: () => {},
};

export type TargetRule = { min: number } | { max: number };

/** The targets of issue 5 on a 2-core machine. */
export const TARGETS = {
  engine_ratio: { min: 0.35 },
  http_eps: { min: 100_000 },
  alert_latency_ms_p99: { max: 50 },
  rss_mb_100k_entities: { max: 512 },
  checkpoint_stall_ms_max: { max: 100 },
} as const satisfies Record<string, TargetRule>;

export type TargetName = keyof typeof TARGETS;

/** Issue 10's targets, for the cluster figures (measured when Kafka is given). */
export const KAFKA_TARGETS = {
  kafka_ratio: { min: 0.5 },
  failover_s: { max: 15 },
} as const satisfies Record<string, TargetRule>;

export type KafkaTargetName = keyof typeof KAFKA_TARGETS;

export function meets(rule: TargetRule, value: number): boolean {
  return 'min' in rule ? value >= rule.min : value <= rule.max;
}

export interface Results {
  json_parse_eps: number;
  decode_eps: number;
  engine_eps: number;
  engine_ratio: number;
  http_eps: number;
  alert_latency_ms_p99: number;
  rss_mb_100k_entities: number;
  /** The slowest request while the service checkpointed ~2.6 M remembered ids (see details.checkpoint). */
  checkpoint_stall_ms_max: number;
  /** Extra: the same latency while another client posts readings (see details). */
  alert_latency_ms_p99_light_load: number;
  /** Extra: memory of the dedup index at its bound (details.dedupBound.boundMb). */
  dedup_mb_at_bound: number;
  /** Extra: the slowest KPI answer from InfluxDB over the catalogue (details.influx); null without HUITIAN_INFLUX_URL. */
  influx_query_ms_max: number | null;
  /** Cluster mode (issue 10), when Kafka was given: one instance from its first record to every KPI partial durable. */
  kafka_eps?: number;
  /** The same records through a bare kafkajs consumer doing only JSON.parse. */
  kafka_floor_eps?: number;
  kafka_ratio?: number;
  /** SIGKILL of an owner to its partitions' lag back at zero on the other instance. */
  failover_s?: number;
  date: string;
  /** How this run was started. */
  command?: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string; arch: string };
  stream: StreamSpec & { events: number; bytes: number; batchLines: number };
  targets: Record<TargetName, TargetRule & { ok: boolean }> & Partial<Record<KafkaTargetName, TargetRule & { ok: boolean }>>;
  details: {
    inProcess: Omit<InProcessResult, 'json_parse_eps' | 'decode_eps' | 'engine_eps' | 'engine_ratio'>;
    http: HttpResult;
    alertLatency: LatencyResult & { load: string };
    alertLatencyLightLoad: LatencyResult & { load: string };
    memory: MemoryResult;
    checkpoint: Omit<CheckpointResult, 'checkpoint_stall_ms_max'>;
    dedupBound: Omit<DedupBoundResult, 'dedup_mb_at_bound'>;
    influx: Omit<InfluxQueryResult, 'influx_query_ms_max'> | null;
    kafka?: Omit<KafkaResult, 'kafka_eps' | 'kafka_floor_eps' | 'kafka_ratio' | 'failover_s'>;
  };
}

export function machine(): Results['machine'] {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

export async function runSuite(partial: Partial<SuiteOptions> = {}): Promise<Results> {
  const o: SuiteOptions = { ...DEFAULT_OPTIONS, ...partial };
  const say = o.progress;

  say('stream: generating or reusing the cached simulated stream …');
  const stream = ensureStream(o.stream, o.cacheDir);
  say(stream.generated ? `stream: generated ${stream.path} in ${stream.seconds.toFixed(1)} s` : `stream: cached ${stream.path}`);
  const batches = loadBatches(stream.path, o.batchLines, o.maxEvents);
  const events = batches.reduce((n, b) => n + b.lines, 0);
  const bytes = batches.reduce((n, b) => n + b.bytes.length, 0);
  say(`stream: ${events} events, ${(bytes / 1e6).toFixed(0)} MB, ${batches.length} batches of ≤ ${o.batchLines}`);

  say('in process: JSON.parse, decode, engine …');
  const inProcess = measureInProcess(batches);
  say(`in process: engine accepted ${inProcess.engine.accepted} of ${events} (${inProcess.decodeRejected} invalid, ${inProcess.engine.duplicates} duplicates, ${inProcess.engine.late} late)`);

  say('http: POSTing the stream into the service …');
  const http = await measureHttp(batches, inProcess.engine.accepted, o.serverNodeFlags);
  say(`http: ${http.requests} requests in ${http.seconds.toFixed(1)} s`);

  say(`alert latency: ${o.crossings} threshold crossings, idle server …`);
  const latency = await measureAlertLatency({ crossings: o.crossings, backgroundEps: 0, nodeFlags: o.serverNodeFlags });
  say(`alert latency: ${o.crossings} threshold crossings, ${o.backgroundEps} background events/s …`);
  const loaded = await measureAlertLatency({ crossings: o.crossings, backgroundEps: o.backgroundEps, nodeFlags: o.serverNodeFlags });

  say(`memory: ${o.entities} entities in a child process …`);
  const memory = await measureMemory(o.entities);

  say(`checkpoint: dedup index at its ${o.dedupBoundMb} MB bound, requests timed for ${o.checkpointSeconds} s while it checkpoints …`);
  const { dedup, checkpoint } = await measureCheckpoint({ boundMb: o.dedupBoundMb, seconds: o.checkpointSeconds });
  const { checkpoint_stall_ms_max, ...checkpointDetails } = checkpoint;
  const { dedup_mb_at_bound, ...dedupDetails } = dedup;

  say(o.influxUrl !== '' ? 'influx: the stream into InfluxDB, then every KPI query timed …' : 'influx: skipped (no HUITIAN_INFLUX_URL)');
  const influx = await measureInfluxQueries(batches, o.influxUrl, say);
  const { influx_query_ms_max = null, ...influxDetails } = influx ?? {};
  let kafka: KafkaResult | undefined;
  if (o.kafkaBrokers !== undefined) {
    kafka = await kafkaFigures(o, batches, o.kafkaBrokers);
  }

  const { json_parse_eps, decode_eps, engine_eps, engine_ratio, ...inProcessDetails } = inProcess;
  const figures = {
    json_parse_eps,
    decode_eps,
    engine_eps,
    engine_ratio,
    http_eps: http.http_eps,
    alert_latency_ms_p99: latency.alert_latency_ms_p99,
    rss_mb_100k_entities: memory.rss_mb,
    checkpoint_stall_ms_max,
  };
  const extras = { alert_latency_ms_p99_light_load: loaded.alert_latency_ms_p99, dedup_mb_at_bound, influx_query_ms_max };
  const targets = Object.fromEntries(
    (Object.entries(TARGETS) as Array<[TargetName, TargetRule]>).map(([name, rule]) => [name, { ...rule, ok: meets(rule, figures[name]) }]),
  ) as Results['targets'];
  let kafkaKeys = {};
  let kafkaDetails = {};
  if (kafka !== undefined) {
    const { kafka_eps, kafka_floor_eps, kafka_ratio, failover_s, ...rest } = kafka;
    kafkaKeys = { kafka_eps, kafka_floor_eps, kafka_ratio, failover_s };
    kafkaDetails = { kafka: rest };
    targets.kafka_ratio = { ...KAFKA_TARGETS.kafka_ratio, ok: meets(KAFKA_TARGETS.kafka_ratio, kafka_ratio) };
    targets.failover_s = { ...KAFKA_TARGETS.failover_s, ok: meets(KAFKA_TARGETS.failover_s, failover_s) };
  }
  return {
    ...figures,
    ...extras,
    ...kafkaKeys,
    date: new Date().toISOString(),
    machine: machine(),
    stream: { ...o.stream, events, bytes, batchLines: o.batchLines },
    targets,
    details: {
      inProcess: inProcessDetails,
      http,
      alertLatency: { ...latency, load: 'idle: nothing else is sent to the server while the crossings are measured' },
      alertLatencyLightLoad: { ...loaded, load: `light: another client posts ${o.backgroundEps} readings/s in batches of 100 meanwhile` },
      memory,
      checkpoint: checkpointDetails,
      dedupBound: dedupDetails,
      influx: influx === null ? null : (influxDetails as Omit<InfluxQueryResult, 'influx_query_ms_max'>),
      ...kafkaDetails,
    },
  };
}

/** Only the InfluxDB query figure (`npm run bench -- --influx-only`): the stream, then measureInfluxQueries. */
export async function runInfluxOnly(partial: Partial<SuiteOptions> = {}): Promise<InfluxQueryResult | null> {
  const o: SuiteOptions = { ...DEFAULT_OPTIONS, ...partial };
  const stream = ensureStream(o.stream, o.cacheDir);
  const batches = loadBatches(stream.path, o.batchLines, o.maxEvents);
  return measureInfluxQueries(batches, o.influxUrl, o.progress);
}

/** The cluster figures (issue 10) on the stream: measureKafka with the failover run's continuation. */
function kafkaFigures(o: SuiteOptions, batches: Batch[], brokers: string): Promise<KafkaResult> {
  o.progress(`kafka: cluster figures on ${brokers} …`);
  // The failover run's continuation: the hour after the stream, same scenario and rates.
  const start = parseStart(o.stream.start)! + parseDuration(o.stream.duration)!;
  const continuation: string[] = [];
  for (const line of simulate({ scenario: o.stream.scenario, start, durationMs: 3600_000, seed: o.stream.seed + 1, rateScale: o.stream.rateScale, faults: o.stream.faults })) {
    continuation.push(line);
    if (continuation.length >= o.failoverEps * (o.failoverKillAfterS + 5)) break;
  }
  return measureKafka({ brokers, batches, continuation, continuationEps: o.failoverEps, killAfterS: o.failoverKillAfterS, nodeFlags: o.serverNodeFlags, progress: o.progress, failover: o.failover });
}

/** Only the cluster figures (`npm run bench -- --kafka-only`): the stream, then measureKafka; the keys merge into results.json. */
export async function runKafkaOnly(partial: Partial<SuiteOptions> & { kafkaBrokers: string }): Promise<KafkaResult & { date: string; machine: Results['machine']; stream: Results['stream'] }> {
  const o: SuiteOptions = { ...DEFAULT_OPTIONS, ...partial };
  const stream = ensureStream(o.stream, o.cacheDir);
  const batches = loadBatches(stream.path, o.batchLines, o.maxEvents);
  const events = batches.reduce((n, b) => n + b.lines, 0);
  const bytes = batches.reduce((n, b) => n + b.bytes.length, 0);
  const r = await kafkaFigures(o, batches, partial.kafkaBrokers);
  return { ...r, date: new Date().toISOString(), machine: machine(), stream: { ...o.stream, events, bytes, batchLines: o.batchLines } };
}
