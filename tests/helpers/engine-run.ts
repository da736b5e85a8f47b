/**
 * Drives an Engine the way the pipeline does and keeps everything it returned: the
 * partial rows (what a KPI store would hold), the alert changes and the outcomes.
 */
import type { Alert, AlertChange } from '../../src/alerts/alert.js';
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineConfig, type StepResult } from '../../src/engine/engine.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import { kpiByName } from '../../src/kpis/catalogue.js';
import type { PartialDelta } from '../../src/kpis/partials.js';
import { evaluateKpi, type KpiResult } from '../../src/kpis/query.js';
import { ev, ms } from './events.js';

export const ALL_TIME: readonly [number, number] = [0, 4_102_444_800_000]; // 1970 … 2100

/**
 * Replay mode, as the core tests drive it. Their streams jump event time across hours and
 * days to reach a deadline (`watermarkTo`), which the future guard would refuse: it is off
 * here (a bound of a year) and tested on its own with the bound the service uses.
 */
export function engineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay', maxFutureMs: 366 * 86_400_000, ...overrides };
}

export class EngineRun {
  readonly rows: PartialDelta[] = [];
  readonly changes: AlertChange[] = [];
  engine: Engine;
  /** Wall clock passed to the engine; tests move it explicitly. */
  now = 0;

  constructor(readonly config: EngineConfig = engineConfig()) {
    this.engine = new Engine(config);
  }

  private keep(step: StepResult): StepResult {
    this.rows.push(...step.partials);
    this.changes.push(...step.alerts);
    return step;
  }

  /** Ingests events one batch at a time on channel `c`. */
  feed(events: HuitianEvent | readonly HuitianEvent[], channel = 'c', idleAfter = false): StepResult {
    const list = Array.isArray(events) ? events : [events as HuitianEvent];
    return this.keep(this.engine.ingest(list, channel, this.now, idleAfter));
  }

  /** Each event in its own batch, as a stream arrives; returns the outcomes. */
  stream(events: readonly HuitianEvent[], channel = 'c'): string[] {
    return events.flatMap((e) => this.feed([e], channel).outcomes);
  }

  /** Like `stream`, in event-time order (stable for equal times). */
  streamSorted(events: readonly HuitianEvent[], channel = 'c'): string[] {
    return this.stream([...events].sort((a, b) => a.time - b.time), channel);
  }

  markIdle(channel: string): StepResult {
    return this.keep(this.engine.markIdle(channel, this.now));
  }

  tick(now: number): StepResult {
    this.now = now;
    return this.keep(this.engine.tick(now));
  }

  /**
   * Moves the watermark to exactly T0 + `seconds` (replay mode, one channel) with an event
   * that touches no KPI and no rule: a pressure reading on a line of its own.
   */
  watermarkTo(seconds: number): StepResult {
    const lateness = this.config.latenessMs / 1000;
    return this.feed(ev('huitian.utility.reading', seconds + lateness, { lineId: 'CLOCK', network: 'water', metric: 'pressure_mpa', value: 0.3 }));
  }

  acknowledge(alertId: string, by = 'operator', note?: string) {
    const r = this.engine.acknowledge(alertId, by, note, this.now);
    if (r.ok) this.keep(r.step);
    return r;
  }

  resolve(alertId: string, by = 'operator', note?: string) {
    const r = this.engine.resolve(alertId, by, note, this.now);
    if (r.ok) this.keep(r.step);
    return r;
  }

  kpi(name: string, groupBy: readonly string[] = [], from = ALL_TIME[0], to = ALL_TIME[1]): KpiResult {
    const def = kpiByName(name);
    if (def === undefined) throw new Error(`no KPI ${name}`);
    return evaluateKpi(def, this.rows, from, to, groupBy);
  }

  /** Partial rows of one family, as (minute offset from T0, tags, fields), merged per key. */
  family(family: string): Array<{ minute: number; tags: Record<string, string>; fields: Record<string, number> }> {
    const merged = new Map<string, { minute: number; tags: Record<string, string>; fields: Record<string, number> }>();
    for (const r of this.rows) {
      if (r.family !== family) continue;
      const key = `${r.bucket}|${r.tagKey}`;
      const m = merged.get(key);
      if (m === undefined) merged.set(key, { minute: (r.bucket - ms(0)) / 60_000, tags: { ...r.tags }, fields: { ...r.fields } });
      else for (const [f, v] of Object.entries(r.fields)) m.fields[f] = f.startsWith('max_') ? Math.max(m.fields[f] ?? v, v) : (m.fields[f] ?? 0) + v;
    }
    return [...merged.values()].sort((a, b) => a.minute - b.minute || JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)));
  }

  /** Alert changes as compact tuples: [action, rule, entity, severity, status]. */
  transitions(rule?: string): Array<[string, string, string, string, string]> {
    return this.changes
      .filter((c) => rule === undefined || c.alert.rule === rule)
      .map((c) => [c.action, c.alert.rule, c.alert.entityId, c.alert.severity, c.alert.status]);
  }

  lastAlert(rule: string, entityId: string): Alert | undefined {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const a = this.changes[i]!.alert;
      if (a.rule === rule && a.entityId === entityId) return a;
    }
    return undefined;
  }
}
