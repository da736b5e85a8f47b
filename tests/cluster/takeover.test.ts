/**
 * The exact re-read of docs/cluster.md §3, checked without a broker: tasks of a simulated
 * mixed stream (with faults, operator acks and, live, idle ticks) are killed at seeded
 * moments — their outputs not yet acknowledged partly written, partly lost — and restored
 * from their last checkpoint (through the real chunked encoding), re-reading with other
 * batch boundaries; the global stage too. Every KPI partial, every alert and the set of
 * (id, version) written must end exactly as when nothing was killed, and every version of
 * every alert must have been written at least once.
 *
 * The model follows the runtime's order: a batch's outputs are handed to the sinks; a
 * checkpoint is written only once every output of the records it covers is durable.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { CheckpointWriter, decodeCheckpoint } from '../../src/cluster/checkpoints.js';
import { GlobalTask, globalReportsOf, type GlobalSnapshot } from '../../src/cluster/global-task.js';
import { globalPartialRecords, parsePartialRecordKey, recordEntries, type PartialRecord } from '../../src/cluster/partials-view.js';
import { COMMAND_HEADER, Task, type TaskRecord, type TaskSnapshot } from '../../src/cluster/task.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../src/engine/engine.js';
import type { TaskReport } from '../../src/engine/global-stage.js';
import { entityKeyOf } from '../../src/events/routing.js';
import type { PartialDelta } from '../../src/kpis/partials.js';
import { Rng } from '../../src/simulator/prng.js';
import { simulate } from '../../src/simulator/simulate.js';
import { budget, runs } from '../helpers/property-runs.js';

const START = Date.parse('2026-07-21T00:00:00+08:00');
const PARTITIONS = 3;
const DOMAINS = ['waterlogging', 'utility', 'parking', 'dispatch'] as const;
const DISPATCH_TASKS = Array.from({ length: PARTITIONS }, (_, p) => `dispatch-${p}`);

interface Sinks {
  /** (writer, family, bucket, tags) → absolute fields: InfluxDB points or `G.partials`. */
  partials: Map<string, Record<string, number>>;
  /** `G.partials` as compaction leaves it: the latest bucket record (docs/cluster.md §7) per key. */
  records: Map<string, string>;
  /** The alert view: the newest version of each alert. */
  alerts: Map<string, { version: number; alert: Alert }>;
  /** Every (id, version) written to `G.alerts`. */
  versions: Set<string>;
  /** `G.global`. */
  global: TaskRecord[];
}

interface Pending {
  partials: PartialDelta[];
  records: PartialRecord[];
  alerts: Alert[];
  reports: TaskReport[];
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

/** The input partitions of a simulated day: records by task id, with Kafka timestamps. */
function inputLog(seed: number, live: boolean): Map<string, TaskRecord[]> {
  const logs = new Map<string, TaskRecord[]>();
  for (const d of DOMAINS) for (let p = 0; p < PARTITIONS; p++) logs.set(`${d}-${p}`, []);
  // The mixed day has about one fire incident in 8 h: a dense fire week beside it gives the
  // partial tables, the minute reports and the global stage work to do.
  const lines = [
    ...parsed(simulate({ scenario: 'mixed', start: START, durationMs: 8 * 3600_000, seed, rateScale: 0.6, faults: 0.02 })),
    ...parsed(simulate({ scenario: 'fire-week', start: START, durationMs: 8 * 3600_000, seed, rateScale: 100, faults: 0.02 })),
  ].sort((a, b) => a.time - b.time);
  let i = 0;
  let lastTs = START;
  for (const { line, key, domain: d, time } of lines) {
    let domain = d;
    if (!(DOMAINS as readonly string[]).includes(domain)) domain = 'waterlogging';
    const log = logs.get(`${domain}-${hash(key ?? String(i++)) % PARTITIONS}`)!;
    // Produced a few seconds after the event time (live mode judges `future` by it); a
    // fault's time far ahead does not move the producers' clock.
    if (time < lastTs + 3600_000) lastTs = Math.max(lastTs, time);
    log.push({ offset: String(log.length), timestamp: String(lastTs + 3000), value: Buffer.from(line) });
  }
  if (live) {
    // Idle ticks an owner appended, then one far ahead: every decision and eviction is due.
    const rng = new Rng(seed, 'ticks');
    for (const [, log] of logs) {
      for (let j = log.length - 1; j > 0; j--) {
        if (rng.chance(0.01)) log.splice(j, 0, tick(Number(log[j - 1]!.timestamp) + 30_000));
      }
      log.push(tick(START + 36 * 3600_000));
      log.forEach((r, k) => (r.offset = String(k)));
    }
  }
  return logs;
}

/** Lines with what routing needs; a malformed fault line is a record too (its task dead-letters it), at the time before it. */
function parsed(lines: Iterable<string>): Array<{ line: string; key: string | undefined; domain: string; time: number }> {
  const out: Array<{ line: string; key: string | undefined; domain: string; time: number }> = [];
  let time = START;
  for (const line of lines) {
    let key: string | undefined;
    let domain = 'waterlogging';
    try {
      const e = JSON.parse(line) as { type?: unknown; data?: unknown; time?: unknown };
      key = entityKeyOf(e);
      if (typeof e.type === 'string') domain = e.type.split('.')[1] ?? domain;
      if (typeof e.time === 'string' && Number.isFinite(Date.parse(e.time))) time = Date.parse(e.time);
    } catch {
      // not JSON: keeps the previous time
    }
    out.push({ line, key, domain, time });
  }
  return out;
}

function tick(now: number): TaskRecord {
  return { offset: '0', timestamp: String(now), headers: { [COMMAND_HEADER]: 'tick' }, value: Buffer.from(JSON.stringify({ now })) };
}

/** Operator acks of the first alerts each partition raised, placed a few records after each opened. */
function withAcks(config: EngineConfig, logs: Map<string, TaskRecord[]>): void {
  for (const [id, log] of logs) {
    const task = new Task(id, id.split('-')[0]!, 0, config, 0n);
    const acks: Array<[number, string]> = [];
    for (let k = 0; k < log.length && acks.length < 3; k++) {
      for (const c of task.process([log[k]!], 0).alerts) if (c.action === 'opened' && acks.length < 3) acks.push([k + 5, c.alert.id]);
    }
    for (const [at, alertId] of acks.reverse()) {
      const ts = Number(log[Math.min(at, log.length - 1)]!.timestamp);
      log.splice(Math.min(at, log.length), 0, { offset: '0', timestamp: String(ts), headers: { [COMMAND_HEADER]: 'ack' }, value: Buffer.from(JSON.stringify({ alertId, by: '值班员', requestId: alertId })) });
    }
    log.forEach((r, k) => (r.offset = String(k)));
  }
}

/** The latest bucket records expanded to (writer, family, bucket, tags) → fields, as the partials view reads them; a tag key in two records of one writer's bucket fails. */
function expandRecords(records: Map<string, string>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [key, value] of records) {
    const k = parsePartialRecordKey(key)!;
    for (const [tagKey, fields] of recordEntries(value)) {
      const id = `${k.writer}|${k.family}|${k.bucket}|${tagKey}`;
      if (out.has(id)) throw new Error(`${id} in two bucket records`);
      out.set(id, fields);
    }
  }
  return out;
}

function emptySinks(): Sinks {
  return { partials: new Map(), records: new Map(), alerts: new Map(), versions: new Set(), global: [] };
}

function write(sinks: Sinks, writer: string, p: Pending, keep: (i: number) => boolean = () => true): void {
  p.partials.forEach((d, i) => {
    if (keep(i)) sinks.partials.set(`${writer}|${d.family}|${d.bucket}|${d.tagKey}`, { ...d.fields });
  });
  p.records.forEach((r, i) => {
    if (keep(i + 3)) sinks.records.set(r.key, r.value);
  });
  p.alerts.forEach((a, i) => {
    if (!keep(i + 7)) return;
    const version = a.history.length;
    sinks.versions.add(`${a.id}#${version}`);
    const known = sinks.alerts.get(a.id);
    if (known === undefined || version > known.version) sinks.alerts.set(a.id, { version, alert: structuredClone(a) });
  });
  // One partition, one producer in order: what reaches `G.global` is a prefix.
  let n = 0;
  while (n < p.reports.length && keep(n + 13)) n++;
  for (const r of p.reports.slice(0, n)) sinks.global.push({ offset: String(sinks.global.length), timestamp: '0', value: Buffer.from(JSON.stringify(r)) });
}

type Owned = { kind: 'input'; task: Task; log: TaskRecord[] } | { kind: 'global'; task: GlobalTask };

/**
 * Runs every task to the end. With `rng`, tasks interleave in seeded order with seeded
 * batch sizes, checkpoint now and then, and are killed now and then; without, each runs
 * alone in one pass, its outputs written at once.
 */
async function run(config: EngineConfig, logs: Map<string, TaskRecord[]>, rng?: Rng): Promise<{ sinks: Sinks; kills: number; retouched: number }> {
  const sinks = emptySinks();
  const topic = new Map<string, Buffer | null>();
  const writers = new Map<string, CheckpointWriter>();
  const pending = new Map<string, Pending[]>();
  let kills = 0;
  let retouched = 0;

  const fresh = async (id: string): Promise<Owned> => {
    const writer = new CheckpointWriter();
    writers.set(id, writer);
    const cp = await decodeCheckpoint(id, topic);
    writer.remember(id, cp?.manifest, cp?.slotCounts ?? [0, 0]);
    if (id === 'global') {
      return { kind: 'global', task: GlobalTask.restore(config.rules, DISPATCH_TASKS, cp === null ? null : (cp.state as GlobalSnapshot), 0n, cp === null ? undefined : BigInt(cp.manifest.offset), config.timeZone) };
    }
    const [domain, p] = id.split('-') as [string, string];
    const task = cp === null ? new Task(id, domain, Number(p), config, 0n) : new Task(id, domain, Number(p), config, 0n, cp.state as TaskSnapshot);
    task.bucketRecords = true;
    return { kind: 'input', task, log: logs.get(id)! };
  };
  const owned = new Map<string, Owned>();
  for (const id of [...logs.keys(), 'global']) owned.set(id, await fresh(id));

  const flush = (id: string) => {
    for (const p of pending.get(id) ?? []) write(sinks, id, p);
    pending.set(id, []);
  };
  const checkpoint = async (id: string, o: Owned) => {
    flush(id);
    const { chunks, manifest } = await writers.get(id)!.encode(id, o.task.next, o.task.snapshot());
    for (const m of [...chunks, manifest]) topic.set(String(m.key), m.value === null ? null : Buffer.from(m.value as Buffer | string));
  };
  const remaining = (o: Owned) => (o.kind === 'input' ? o.log.length : sinks.global.length) - Number(o.task.next);

  for (;;) {
    const busy = [...owned].filter(([, o]) => remaining(o) > 0);
    if (busy.length === 0) {
      // Everything read: what is still pending becomes durable, and the global stage may have more.
      for (const id of owned.keys()) flush(id);
      if ([...owned.values()].every((o) => remaining(o) === 0)) break;
      continue;
    }
    const [id, o] = rng === undefined ? busy[0]! : busy[rng.int(0, busy.length - 1)]!;
    // The dispatch tasks hold the state that outlives a checkpoint (incidents decided
    // minutes after they were received, partial keys still changing): small batches,
    // checkpointed and killed most often.
    const fire = id.startsWith('dispatch-') || id === 'global';
    const size = rng === undefined ? Number.MAX_SAFE_INTEGER : fire ? rng.int(1, 12) : rng.chance(0.3) ? rng.int(1, 5) : rng.int(10, 120);
    const from = Number(o.task.next);
    const batch = (o.kind === 'input' ? o.log : sinks.global).slice(from, from + size);
    let out: Pending;
    if (o.kind === 'input') {
      const r = o.task.process(batch, 0);
      const reports = globalReportsOf(id, r, o.task.engine.watermark, id.startsWith('dispatch-'));
      out = { partials: r.partials, records: r.partialRecords, alerts: r.alerts.map((c) => c.alert), reports };
    } else {
      const r = o.task.process(batch);
      out = { partials: r.partials, records: globalPartialRecords(r.partials), alerts: r.alerts.map((c) => c.alert), reports: [] };
    }
    pending.set(id, [...(pending.get(id) ?? []), structuredClone(out)]);
    if (rng === undefined) {
      flush(id);
      continue;
    }
    if (rng.chance(0.3)) flush(id);
    if (rng.chance(fire ? 0.3 : 0.1)) await checkpoint(id, o);
    if (rng.chance(fire ? 0.1 : 0.02)) {
      // SIGKILL. The producer sends one batch's outputs after the other (the runtime chains
      // them), so the batches before some k landed, some of batch k's landed (of the one
      // partition of G.global, a prefix) and nothing after it.
      kills++;
      const unacked = pending.get(id) ?? [];
      const k = rng.int(0, unacked.length);
      unacked.forEach((p, j) => {
        if (j < k) write(sinks, id, p);
        else if (j === k) write(sinks, id, p, () => rng.chance(0.5));
      });
      pending.set(id, []);
      if (o.kind === 'input') retouched += o.task.partials.retouched;
      owned.set(id, await fresh(id));
    }
  }
  for (const o of owned.values()) if (o.kind === 'input') retouched += o.task.partials.retouched;
  return { sinks, kills, retouched };
}

describe('takeover: killed tasks restored from their checkpoints end exactly as if never killed', () => {
  for (const mode of ['replay', 'live'] as const) {
    it(
      `${mode}: ${runs(3)} seeded runs, each with many kills`,
      async () => {
        // A target the simulated district misses now and then, so the global stage opens and clears breaches.
        const rules = { ...DEFAULT_ENGINE_CONFIG.rules, kpiBreach: { ...DEFAULT_ENGINE_CONFIG.rules.kpiBreach, target: 0.97 } };
        const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, timeMode: mode, rules };
        for (let r = 0; r < runs(3); r++) {
          const seed = 1000 + r;
          const logs = inputLog(seed, mode === 'live');
          withAcks(config, logs);
          const expected = await run(config, logs);
          const got = await run(config, logs, new Rng(seed, `kills ${mode}`));
          expect(got.kills, 'the run killed tasks').toBeGreaterThan(10);
          expect(expected.sinks.partials.size).toBeGreaterThan(1000);
          expect([...expected.sinks.alerts.values()].some((a) => a.alert.rule === 'kpi_breach'), 'the global stage opened a breach').toBe(true);
          expect([...expected.sinks.alerts.values()].some((a) => a.alert.status === 'acknowledged')).toBe(true);
          expect(new Map([...got.sinks.partials].sort()), `seed ${seed}: KPI partials`).toEqual(new Map([...expected.sinks.partials].sort()));
          // The bucket records of G.partials, as compaction leaves them, say the same.
          expect(new Map([...expandRecords(expected.sinks.records)].sort()), 'bucket records of the run never killed').toEqual(new Map([...expected.sinks.partials].sort()));
          expect(new Map([...expandRecords(got.sinks.records)].sort()), `seed ${seed}: bucket records`).toEqual(new Map([...expected.sinks.partials].sort()));
          expect(new Map([...got.sinks.alerts].sort()), `seed ${seed}: alerts`).toEqual(new Map([...expected.sinks.alerts].sort()));
          // Every transition the uninterrupted run wrote (id, version), the killed run wrote too.
          expect([...expected.sinks.versions].filter((v) => !got.sinks.versions.has(v)), `seed ${seed}: versions never written`).toEqual([]);
          expect(expected.sinks.versions.size).toBeGreaterThan(expected.sinks.alerts.size);
          expect(got.retouched + expected.retouched).toBe(0);
        }
      },
      budget(120_000),
    );
  }
});
