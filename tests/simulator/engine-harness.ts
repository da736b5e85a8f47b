/**
 * Feeds a simulated stream through the real engine, as `huitian replay` into a service in
 * replay mode would: each line decoded on its own (malformed ones are counted and
 * skipped), batches of 500 on one channel that goes idle after each batch, then a final
 * tick. Returns every KPI partial and alert change the engine produced.
 */
import type { AlertChange } from '../../src/alerts/alert.js';
import { DEFAULT_ENGINE_CONFIG, DEFAULT_MAX_FUTURE_MS, Engine, type EngineStats } from '../../src/engine/engine.js';
import { decodeJson } from '../../src/events/decode.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import type { PartialRow } from '../../src/kpis/query.js';
import { evaluateKpi, type KpiResult } from '../../src/kpis/query.js';
import { kpiByName } from '../../src/kpis/catalogue.js';

export interface EngineRun {
  rows: PartialRow[];
  alerts: AlertChange[];
  stats: EngineStats;
  rejected: number;
}

const BATCH = 500;

export function runThroughEngine(lines: Iterable<string>): EngineRun {
  const engine = new Engine({ ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay', maxFutureMs: DEFAULT_MAX_FUTURE_MS.replay });
  const rows: PartialRow[] = [];
  const alerts: AlertChange[] = [];
  let rejected = 0;
  let batch: HuitianEvent[] = [];
  const flush = () => {
    const step = engine.ingest(batch, 'sim', 0, true);
    batch = [];
    rows.push(...step.partials);
    alerts.push(...step.alerts);
  };
  for (const line of lines) {
    const d = decodeJson(line);
    if (!d.ok) {
      rejected++;
      continue;
    }
    batch.push(d.event);
    if (batch.length >= BATCH) flush();
  }
  flush();
  const last = engine.tick(0);
  rows.push(...last.partials);
  alerts.push(...last.alerts);
  return { rows, alerts, stats: engine.stats(), rejected };
}

/** A KPI over all time, optionally grouped. */
export function kpi(run: EngineRun, name: string, groupBy: string[] = []): KpiResult {
  const def = kpiByName(name);
  if (def === undefined) throw new Error(`no KPI ${name}`);
  return evaluateKpi(def, run.rows, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, groupBy);
}

/** Entities for which the engine opened (or escalated to) an alert of `rule`, with the worst severity reached. */
export function alertedEntities(run: EngineRun, rule: string): Map<string, string> {
  const order = ['blue', 'yellow', 'orange', 'red'];
  const worst = new Map<string, string>();
  for (const c of run.alerts) {
    if (c.alert.rule !== rule || (c.action !== 'opened' && c.action !== 'escalated')) continue;
    const prev = worst.get(c.alert.entityId);
    if (prev === undefined || order.indexOf(c.alert.severity) > order.indexOf(prev)) worst.set(c.alert.entityId, c.alert.severity);
  }
  return worst;
}

/** How many times the engine opened an alert of `rule` per entity. */
export function openings(run: EngineRun, rule: string): Map<string, number> {
  const n = new Map<string, number>();
  for (const c of run.alerts) if (c.alert.rule === rule && c.action === 'opened') n.set(c.alert.entityId, (n.get(c.alert.entityId) ?? 0) + 1);
  return n;
}
