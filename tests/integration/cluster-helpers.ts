/**
 * Cluster members as real processes (bin/huitian.js serve in cluster mode) for the
 * integration tests of issue 10: start, ask, and compare them. Every answer a member gives
 * through these helpers is checked against its OpenAPI document.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KPI_CATALOGUE } from '../../src/kpis/catalogue.js';
import { OpenApiConformance, type OpenApiDocument } from '../helpers/openapi-conformance.js';
import { normalise, waitFor } from './helpers.js';

export { DOMAINS, inputRecords } from '../../scripts/cluster-input.js';

export interface Member {
  name: string;
  port: number;
  child: ChildProcess;
  log: string;
  /** The whole log, kept in the member's data directory; a failure names it. */
  logFile: string;
  exited: Promise<number | null>;
}

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);

export class ClusterHarness {
  readonly members: Member[] = [];
  readonly nonConforming: string[] = [];
  private conformance: OpenApiConformance | undefined;

  constructor(
    private readonly brokers: string,
    private readonly topics: readonly string[],
    private readonly dlqTopic: string,
  ) {}

  /** A member of `group` in replay mode; `env` adds or overrides settings (InfluxDB, NATS). */
  start(name: string, group: string, env: Record<string, string> = {}): Member {
    const port = nextPort++;
    const dataDir = mkdtempSync(join(tmpdir(), `huitian-${name}-`));
    const child = spawn(process.execPath, ['bin/huitian.js', 'serve'], {
      env: {
        ...process.env,
        HUITIAN_HOST: '127.0.0.1',
        HUITIAN_PORT: String(port),
        HUITIAN_DATA_DIR: dataDir,
        HUITIAN_TIME_MODE: 'replay',
        HUITIAN_LOG_LEVEL: 'info',
        HUITIAN_SNAPSHOT_INTERVAL_S: '2',
        HUITIAN_KAFKA_BROKERS: this.brokers,
        HUITIAN_KAFKA_MODE: 'cluster',
        HUITIAN_KAFKA_SESSION_TIMEOUT_S: '6',
        HUITIAN_KAFKA_TOPICS: this.topics.join(','),
        HUITIAN_KAFKA_GROUP: group,
        HUITIAN_DLQ_TOPIC: this.dlqTopic,
        // A loaded CI machine may need more than the default 10 s to checkpoint every task.
        HUITIAN_SHUTDOWN_TIMEOUT_S: '60',
        HUITIAN_INSTANCE_ID: name,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const m: Member = { name, port, child, log: '', logFile: join(dataDir, 'service.log'), exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    const onData = (b: Buffer) => {
      m.log += b.toString();
      appendFileSync(m.logFile, b);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.members.push(m);
    return m;
  }

  killAll(): void {
    for (const m of this.members) m.child.kill('SIGKILL');
  }

  /** For a failure message: each member's log file and its tail. */
  detail(): string[] {
    return this.members.map((m) => `${m.name} (${m.logFile}): ${m.log.slice(-1500)}`);
  }

  async request(m: Member, method: string, path: string, body?: unknown): Promise<{ status: number; ok: boolean; text: string }> {
    const res = await fetch(`http://127.0.0.1:${m.port}${path}`, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    this.conformance ??= new OpenApiConformance((await (await fetch(`http://127.0.0.1:${m.port}/docs/json`)).json()) as OpenApiDocument);
    this.nonConforming.push(...this.conformance.check({ method, url: path, status: res.status, headers: Object.fromEntries(res.headers), body: text }).map((p) => `${m.name}: ${p}`));
    return { status: res.status, ok: res.ok, text };
  }

  async get<T>(m: Member, path: string): Promise<T> {
    const res = await this.request(m, 'GET', path);
    if (!res.ok) throw new Error(`${m.name} ${path}: ${res.status} ${res.text}\n${m.log.split('\n').filter((l) => l.includes('"level":50')).slice(-3).join('\n')}`);
    return JSON.parse(res.text) as T;
  }

  async tasks(m: Member): Promise<Array<{ task: string; state: string; lag: number | null }>> {
    return (await this.get<{ cluster?: { tasks: Array<{ task: string; state: string; lag: number | null }> } }>(m, '/readyz')).cluster?.tasks ?? [];
  }

  /** Every one of `count` tasks owned by one of `members`, restored and caught up. */
  async caughtUp(members: readonly Member[], count: number): Promise<true | undefined> {
    const all: Array<{ state: string; lag: number | null }> = [];
    for (const m of members) all.push(...(await this.tasks(m)));
    return all.length === count && all.every((t) => t.state === 'active' && t.lag === 0) ? true : undefined;
  }

  /** Every KPI, overall and by each of its group tags, over [from, to), as a member answers it (times left out). */
  async kpis(m: Member, from: number, to: number): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of KPI_CATALOGUE) {
      for (const g of [undefined, ...k.groupTags]) {
        const q = `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}${g === undefined ? '' : `&groupBy=${g}`}`;
        const { from: _f, to: _t, ...rest } = await this.get<Record<string, unknown>>(m, `/v1/kpis/${k.name}?${q}`);
        out[`${k.name}?${g ?? ''}`] = normalise(rest);
      }
    }
    return out;
  }

  async alerts(m: Member): Promise<Map<string, AlertRow>> {
    const out = new Map<string, AlertRow>();
    let cursor: string | null = null;
    do {
      const page: { items: AlertRow[]; nextCursor: string | null } = await this.get(m, `/v1/alerts?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`);
      for (const a of page.items) out.set(a.id, a);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  }
}

export interface AlertRow {
  id: string;
  status: string;
  severity: string;
  openedAt: string;
  resolvedAt: string | null;
  history: Array<{ action: string }>;
}

/** What the issue compares of the final alert set: id, status, severity, openedAt, resolvedAt. */
export function alertSet(m: ReadonlyMap<string, AlertRow>): string[] {
  return [...m.values()].map((a) => `${a.id} ${a.status} ${a.severity} ${a.openedAt} ${a.resolvedAt}`).sort();
}

/** Answers that stay the same over two polls: the member has written all it will. */
export async function stable<T>(probe: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  let last = JSON.stringify(await probe());
  return waitFor(
    'stable answers',
    async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const now = JSON.stringify(await probe());
      if (now === last) return JSON.parse(now) as T;
      last = now;
      return undefined;
    },
    timeoutMs,
    0,
  );
}
