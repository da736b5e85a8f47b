/**
 * Service configuration: parsed once at start-up from defaults, an optional JSON config
 * file (`HUITIAN_CONFIG`), `HUITIAN_*` environment variables and `huitian serve` flags,
 * in that order of precedence; every problem is listed in one error naming the key;
 * the result is frozen. Each field carries its description and default, from which the
 * README's configuration table is generated (`npm run docs:config`).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { rulesConfigSchema, type RulesConfig } from './alerts/rules-config.js';
import { DEFAULT_MAX_FUTURE_MS } from './engine/engine.js';
import { HuitianError } from './errors.js';
import { notificationsConfigSchema, type NotificationsConfig } from './notifications/notifications-config.js';
import { DEFAULT_TIME_ZONE, isTimeZone } from './time/time-zone.js';
import { ROLES, type Role } from './roles.js';

export { ROLES, type Role } from './roles.js';

// Strings must be written as integers: z.coerce alone would read "" or " " as 0 and
// "0x1F" or "1e3" as numbers, so HUITIAN_PORT=" " would quietly pick a random port.
const intFrom = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v),
    z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(min).max(max),
  );
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

export interface FieldSpec {
  env: string;
  flag: string;
  description: string;
  default: unknown;
  /** A default that depends on the time mode (read first, so it is known here). */
  defaultByTimeMode?: Readonly<Record<'live' | 'replay', unknown>>;
  schema: z.ZodType;
}

/** Every configuration key. Order is the order of the README table. */
export const CONFIG_FIELDS = {
  host: {
    env: 'HUITIAN_HOST',
    flag: '--host',
    description: 'Address the HTTP API listens on. Without tokens only a loopback address is allowed.',
    default: '127.0.0.1',
    schema: z.string().min(1),
  },
  port: { env: 'HUITIAN_PORT', flag: '--port', description: 'HTTP port (0 picks a free one).', default: 8080, schema: intFrom(0, 65535) },
  dataDir: {
    env: 'HUITIAN_DATA_DIR',
    flag: '--data-dir',
    description: 'Directory of the embedded SQLite store (huitian.db): KPIs, alerts, dead letters, checkpoints; engine snapshots in its `snapshots/`.',
    default: './data',
    schema: z.string().min(1),
  },
  timeMode: {
    env: 'HUITIAN_TIME_MODE',
    flag: '--time-mode',
    description: '`live`: the watermark also advances with the wall clock while input is idle. `replay`: event time only.',
    default: 'live',
    schema: z.enum(['live', 'replay']),
  },
  latenessS: {
    env: 'HUITIAN_LATENESS_S',
    flag: '--lateness-s',
    description: 'Allowed lateness in seconds: events older than the newest event time minus this are rejected as `late`.',
    default: 60,
    schema: intFrom(0, 86_400),
  },
  maxFutureS: {
    env: 'HUITIAN_MAX_FUTURE_S',
    flag: '--max-future-s',
    description:
      'Events stamped more than this many seconds ahead are rejected as `future`, so one wrong clock cannot push event time ahead: in `live` mode ahead of the wall clock, in `replay` mode ahead of the newest event time so far (a replay whose stream is quiet for longer needs more).',
    default: DEFAULT_MAX_FUTURE_MS.live / 1000,
    defaultByTimeMode: { live: DEFAULT_MAX_FUTURE_MS.live / 1000, replay: DEFAULT_MAX_FUTURE_MS.replay / 1000 },
    schema: intFrom(1, 31_536_000),
  },
  tokens: {
    env: 'HUITIAN_TOKENS',
    flag: '--tokens',
    description:
      'Comma-separated `role:name:token` (or `role:token`) entries; roles viewer, operator, ingest, admin; each token at least 8 characters, without whitespace, used once. The name is who acknowledges or resolves with it (default: the role). Empty: auth off, loopback only.',
    default: '',
    schema: z.string(),
  },
  timeZone: {
    env: 'HUITIAN_TIMEZONE',
    flag: '--timezone',
    description: 'IANA time zone the API, alert texts, the CLI and the console write times in (RFC 3339 with its offset); query parameters accept any offset.',
    default: DEFAULT_TIME_ZONE,
    schema: z.string().refine(isTimeZone, { message: 'must be an IANA time zone name, e.g. Asia/Shanghai or UTC' }),
  },
  logLevel: {
    env: 'HUITIAN_LOG_LEVEL',
    flag: '--log-level',
    description: 'pino log level.',
    default: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  fireClockStart: {
    env: 'HUITIAN_FIRE_CLOCK_START',
    flag: '--fire-clock-start',
    description: 'Start of the 5-minute response clock: `dispatched` (the dispatch order, 建标152) or `received` (the call).',
    default: 'dispatched',
    schema: z.enum(['dispatched', 'received']),
  },
  shutdownTimeoutS: {
    env: 'HUITIAN_SHUTDOWN_TIMEOUT_S',
    flag: '--shutdown-timeout-s',
    description:
      'On SIGINT or SIGTERM the service stops its sources, answers what is in flight and writes a snapshot; if that takes longer than this it exits anyway (status 1; everything committed is durable and the next start recovers). A second signal exits at once.',
    default: 10,
    schema: intFrom(1, 3600),
  },
  bodyLimitBytes: {
    env: 'HUITIAN_BODY_LIMIT_BYTES',
    flag: '--body-limit-bytes',
    description: 'Largest accepted request body; larger ones get 413.',
    default: 10 * 1024 * 1024,
    schema: intFrom(1024, 1024 * 1024 * 1024),
  },
  requestTimeoutS: {
    env: 'HUITIAN_REQUEST_TIMEOUT_S',
    flag: '--request-timeout-s',
    description: 'Longest a client may take to send a whole request, headers and body; a slower one gets 408 and is disconnected, so slow clients cannot hold connections.',
    default: 30,
    schema: z.coerce.number().positive().max(3600),
  },
  headersTimeoutS: {
    env: 'HUITIAN_HEADERS_TIMEOUT_S',
    flag: '--headers-timeout-s',
    description: "Longest a client may take to send a request's headers (at most the request timeout); then 408 and disconnected.",
    default: 10,
    schema: z.coerce.number().positive().max(3600),
  },
  keepAliveTimeoutS: {
    env: 'HUITIAN_KEEP_ALIVE_TIMEOUT_S',
    flag: '--keep-alive-timeout-s',
    description: 'An idle keep-alive connection is closed after this many seconds. Behind a load balancer, set it above the balancer’s idle timeout.',
    default: 5,
    schema: z.coerce.number().positive().max(3600),
  },
  ingestRateLimit: {
    env: 'HUITIAN_INGEST_RATE_LIMIT',
    flag: '--ingest-rate-limit',
    description: 'POST /v1/events requests per client per minute before 429 (0 disables). Counts requests, not events.',
    default: 60_000,
    schema: intFrom(0, 10_000_000),
  },
  idleTimeoutS: {
    env: 'HUITIAN_IDLE_TIMEOUT_S',
    flag: '--idle-timeout-s',
    description: 'Live mode: a source silent this many seconds stops holding event time back.',
    default: 5,
    schema: z.coerce.number().positive().max(3600),
  },
  dedupMaxMb: {
    env: 'HUITIAN_DEDUP_MAX_MB',
    flag: '--dedup-max-mb',
    description:
      'Memory bound (estimated MB) of the remembered (`source`, `id`) pairs that duplicates are told by. Past it the oldest minute is forgotten first and events older than the oldest minute still remembered are refused as `late`, so a repeat is never counted twice; counted in /metrics (`huitian_dedup_*`).',
    default: 256,
    schema: intFrom(1, 65_536),
  },
  snapshotIntervalS: {
    env: 'HUITIAN_SNAPSHOT_INTERVAL_S',
    flag: '--snapshot-interval-s',
    description: 'How often the engine state is checkpointed; a restart replays at most this much input.',
    default: 30,
    schema: z.coerce.number().positive().max(86_400),
  },
  sqliteSync: {
    env: 'HUITIAN_SQLITE_SYNC',
    flag: '--sqlite-sync',
    description: 'SQLite `synchronous`: `normal` survives a process crash (kill -9); `full` also survives power loss.',
    default: 'normal',
    schema: z.enum(['normal', 'full']),
  },
  instanceId: {
    env: 'HUITIAN_INSTANCE_ID',
    flag: '--instance-id',
    description: 'Writer id of this instance in KPI partials (the `writer` tag); must be unique per instance.',
    default: hostname(),
    schema: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/),
  },
  kafkaBrokers: {
    env: 'HUITIAN_KAFKA_BROKERS',
    flag: '--kafka-brokers',
    description: 'Comma-separated Kafka bootstrap brokers; set to consume from Kafka.',
    default: [] as string[],
    schema: list,
  },
  kafkaTopics: {
    env: 'HUITIAN_KAFKA_TOPICS',
    flag: '--kafka-topics',
    description: 'Topics consumed.',
    default: ['huitian.waterlogging', 'huitian.utility', 'huitian.parking', 'huitian.dispatch'],
    schema: list,
  },
  kafkaGroup: { env: 'HUITIAN_KAFKA_GROUP', flag: '--kafka-group', description: 'Consumer group id.', default: 'huitian-brain', schema: z.string().min(1) },
  kafkaMode: {
    env: 'HUITIAN_KAFKA_MODE',
    flag: '--kafka-mode',
    description: 'With Kafka: `cluster` runs one engine task per input partition with its state in Kafka, so instances can join, leave and die (docs/cluster.md); `single` runs one engine over the assigned partitions with state in the data directory (one instance, assignments must not move).',
    default: 'cluster',
    schema: z.enum(['cluster', 'single']),
  },
  kafkaSessionTimeoutS: {
    env: 'HUITIAN_KAFKA_SESSION_TIMEOUT_S',
    flag: '--kafka-session-timeout-s',
    description: 'Cluster mode: seconds without a heartbeat after which the group gives a dead instance\'s tasks to the others.',
    default: 10,
    schema: intFrom(6, 300),
  },
  commandWaitMs: {
    env: 'HUITIAN_COMMAND_WAIT_MS',
    flag: '--command-wait-ms',
    description: 'Cluster mode: how long an ack/resolve waits for the alert view to show the transition before answering 202 with a way to follow it.',
    default: 5000,
    schema: intFrom(0, 60_000),
  },
  kafkaAlertsTopic: {
    env: 'HUITIAN_KAFKA_ALERTS_TOPIC',
    flag: '--kafka-alerts-topic',
    description: 'When set, every alert transition is also produced to this topic (e.g. `huitian.alerts`).',
    default: '',
    schema: z.string(),
  },
  natsUrl: {
    env: 'HUITIAN_NATS_URL',
    flag: '--nats-url',
    description: 'NATS server URL(s), comma-separated; set to consume JetStream and publish alerts on NATS.',
    default: [] as string[],
    schema: list,
  },
  natsConsume: {
    env: 'HUITIAN_NATS_CONSUME',
    flag: '--nats-consume',
    description: 'With HUITIAN_NATS_URL set: `true` consumes the JetStream events stream; `false` only publishes alerts and dead letters.',
    default: true,
    schema: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
  },
  natsStream: { env: 'HUITIAN_NATS_STREAM', flag: '--nats-stream', description: 'JetStream stream of `huitian.events.>` (created if missing).', default: 'HUITIAN_EVENTS', schema: z.string().min(1) },
  natsConsumer: { env: 'HUITIAN_NATS_CONSUMER', flag: '--nats-consumer', description: 'Durable pull consumer name.', default: 'huitian-brain', schema: z.string().min(1) },
  dlqTopic: {
    env: 'HUITIAN_DLQ_TOPIC',
    flag: '--dlq-topic',
    description: 'Kafka topic and NATS subject that invalid records are forwarded to, with the reason in a header.',
    default: 'huitian.dlq',
    schema: z.string().min(1),
  },
  influxUrl: {
    env: 'HUITIAN_INFLUX_URL',
    flag: '--influx-url',
    description: 'InfluxDB URL; set to write KPI partials to InfluxDB and answer KPI queries from it.',
    default: '',
    schema: z.string(),
  },
  influxToken: {
    env: 'HUITIAN_INFLUX_TOKEN',
    flag: '--influx-token',
    description: 'InfluxDB token (2.x) or `user:password` (1.8).',
    default: '',
    schema: z.string(),
  },
  influxOrg: { env: 'HUITIAN_INFLUX_ORG', flag: '--influx-org', description: 'InfluxDB organisation (ignored by 1.8).', default: 'huitian', schema: z.string() },
  influxBucket: {
    env: 'HUITIAN_INFLUX_BUCKET',
    flag: '--influx-bucket',
    description: 'InfluxDB bucket (2.x) or `database/retention-policy` (1.8).',
    default: 'huitian',
    schema: z.string().min(1),
  },
  influxQueryTimeoutS: {
    env: 'HUITIAN_INFLUX_QUERY_TIMEOUT_S',
    flag: '--influx-query-timeout-s',
    description: 'Seconds a KPI query waits for InfluxDB before it answers 503 `STORE_UNAVAILABLE` (a day grouped by point reads every minute of every sensor); writes keep their own 10 s.',
    default: 10,
    schema: intFrom(1, 600),
  },
} satisfies Record<string, FieldSpec>;

type Fields = typeof CONFIG_FIELDS;
export type ServiceConfig = Readonly<{ [K in keyof Fields]: z.output<Fields[K]['schema']> }> & {
  readonly rules: RulesConfig;
  /** Routes, receivers, escalation and CAP (config file key `notifications`; README "Alert delivery"). */
  readonly notifications: NotificationsConfig;
  readonly tokenRoles: ReadonlyMap<string, Role>;
  /** Who each token is: its role and name (`role:name:token`; the role when unnamed). */
  readonly tokenIdentities: ReadonlyMap<string, TokenIdentity>;
  /** Where the configuration came from, for the start-up log. */
  readonly configFile: string | null;
};

export type ConfigOverrides = Partial<Record<keyof Fields, unknown>>;

export interface TokenIdentity {
  role: Role;
  name: string;
}

/** Shorter tokens are refused: a bearer token is a password, and 8 characters is the least worth guessing at. */
export const MIN_TOKEN_LENGTH = 8;
const MAX_NAME_LENGTH = 64;

/**
 * Parses `role:name:token` and `role:token` entries. Tokens are compared in constant time
 * elsewhere; here we only refuse what would make auth ambiguous or weak. With three
 * parts the token is everything after the second colon, so a named token may hold
 * colons; an unnamed one may not (its second colon would start the token).
 */
export function parseTokens(text: string): { roles: Map<string, Role>; identities: Map<string, TokenIdentity>; problems: string[] } {
  const roles = new Map<string, Role>();
  const identities = new Map<string, TokenIdentity>();
  const problems: string[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const i = raw.indexOf(':');
    const role = (i < 0 ? raw : raw.slice(0, i)).trim();
    const rest = i < 0 ? '' : raw.slice(i + 1);
    const j = rest.indexOf(':');
    const named = j >= 0;
    const name = named ? rest.slice(0, j).trim() : role;
    // `viewer: abc…` means the token `abc…`; a bearer token cannot carry whitespace, so
    // one that kept it could never be presented.
    const token = (named ? rest.slice(j + 1) : rest).trim();
    const who = named ? `the ${role} token of "${name}"` : `the ${role} token`;
    if (!(ROLES as readonly string[]).includes(role)) problems.push(`unknown role "${role}" (roles: ${ROLES.join(', ')})`);
    else if (named && name === '') problems.push(`the ${role} entry has an empty name; write ${role}:<name>:<token> or ${role}:<token>`);
    else if (name.length > MAX_NAME_LENGTH) problems.push(`the ${role} token name "${name.slice(0, 20)}…" is longer than ${MAX_NAME_LENGTH} characters`);
    else if (token === '') problems.push(`the ${role} entry has no token: write ${role}:<token>, the token at least ${MIN_TOKEN_LENGTH} characters`);
    else if (token.length < MIN_TOKEN_LENGTH) problems.push(`${who} has ${token.length} characters; a token needs at least ${MIN_TOKEN_LENGTH}`);
    else if (/\s/.test(token)) problems.push(`${who} contains whitespace, which a bearer token cannot carry`);
    else if (roles.has(token)) problems.push(`a token is given twice`);
    else {
      roles.set(token, role as Role);
      identities.set(token, { role: role as Role, name });
    }
  }
  return { roles, identities, problems };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * Loads the configuration. `env` is usually process.env; `overrides` are the CLI flags.
 * Throws HuitianError CONFIG_INVALID listing every problem with its key.
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: ConfigOverrides = {}): ServiceConfig {
  const problems: string[] = [];
  const configFile = (overrides as { config?: string }).config ?? env.HUITIAN_CONFIG ?? null;
  let file: Record<string, unknown> = {};
  if (configFile !== null && configFile !== '') {
    try {
      file = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new Error('not a JSON object');
    } catch (err) {
      problems.push(`HUITIAN_CONFIG (${configFile}): ${(err as Error).message}`);
      file = {};
    }
  }
  // A misspelt key would otherwise be ignored without a word, leaving the default in force.
  for (const key of Object.keys(file)) {
    if (key !== 'rules' && key !== 'notifications' && !Object.prototype.hasOwnProperty.call(CONFIG_FIELDS, key)) {
      problems.push(`HUITIAN_CONFIG (${configFile}): unknown key "${key}" (keys: ${Object.keys(CONFIG_FIELDS).join(', ')}, rules, notifications)`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_FIELDS) as Array<[keyof Fields, FieldSpec]>) {
    let raw: unknown = spec.defaultByTimeMode?.[out.timeMode === 'replay' ? 'replay' : 'live'] ?? spec.default;
    let from = 'default';
    if (file[key] !== undefined) {
      raw = file[key];
      from = `${configFile} key "${key}"`;
    }
    if (env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      from = spec.env;
    }
    if (overrides[key] !== undefined) {
      raw = overrides[key];
      from = spec.flag;
    }
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${from}: ${parsed.error.issues.map((i) => i.message).join('; ')} (got ${JSON.stringify(raw)})`);
  }
  const rules = rulesConfigSchema.safeParse(file.rules ?? {});
  if (!rules.success) {
    for (const issue of rules.error.issues) problems.push(`rules.${issue.path.join('.')}: ${issue.message}`);
  }
  if (typeof out.headersTimeoutS === 'number' && typeof out.requestTimeoutS === 'number' && out.headersTimeoutS > out.requestTimeoutS) {
    problems.push(`HUITIAN_HEADERS_TIMEOUT_S: must be at most HUITIAN_REQUEST_TIMEOUT_S (${out.requestTimeoutS}), got ${out.headersTimeoutS}`);
  }
  const notifications = notificationsConfigSchema.safeParse(file.notifications ?? {});
  if (!notifications.success) {
    for (const issue of notifications.error.issues) problems.push(`notifications.${issue.path.join('.')}: ${issue.message}`);
  }
  const tokens = parseTokens(typeof out.tokens === 'string' ? out.tokens : '');
  for (const p of tokens.problems) problems.push(`HUITIAN_TOKENS: ${p}`);
  if (typeof out.host === 'string' && tokens.roles.size === 0 && !isLoopback(out.host)) {
    problems.push(
      `HUITIAN_HOST: with no HUITIAN_TOKENS configured the API has no authentication, so it listens on loopback only; got ${out.host}. Configure tokens or use 127.0.0.1`,
    );
  }
  if (problems.length > 0) {
    throw new HuitianError('CONFIG_INVALID', { details: problems.join('\n  - ') }, { details: problems });
  }
  return Object.freeze({ ...out, rules: rules.data!, notifications: notifications.data!, tokenRoles: tokens.roles, tokenIdentities: tokens.identities, configFile }) as unknown as ServiceConfig;
}

/** The README configuration table, generated from CONFIG_FIELDS. */
export function configTableMarkdown(): string {
  const rows = Object.values(CONFIG_FIELDS).map((f: FieldSpec) => {
    const def = Array.isArray(f.default) ? f.default.join(',') : String(f.default);
    const byMode = f.defaultByTimeMode;
    const shown =
      f.env === 'HUITIAN_INSTANCE_ID'
        ? 'host name'
        : byMode !== undefined
          ? `\`${String(byMode.live)}\` live, \`${String(byMode.replay)}\` replay`
          : def === ''
            ? '(empty)'
            : `\`${def}\``;
    return `| \`${f.env}\` | \`${f.flag}\` | ${shown} | ${f.description} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
