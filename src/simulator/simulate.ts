/**
 * `simulate(options)`: a scenario of the 回天 district as CloudEvents NDJSON lines, with
 * its ground truth. Pure apart from CPU: no I/O, no clock, no `Math.random` — the same
 * options give the same bytes.
 *
 * Pipeline: per-entity generators (scenarios/*) → k-way merge by event time (merge.ts)
 * → fault injection (faults.ts) → lines; every line is also observed by the truth
 * (truth.ts). It streams: memory grows with the number of entities, not of events.
 */
import { parseRfc3339 } from '../events/event-time.js';
import { FaultInjector } from './faults.js';
import { mergeByTime } from './merge.js';
import { scenarioContext, type ScenarioContext } from './scenario-context.js';
import { fireWeekSources } from './scenarios/fire-week.js';
import { gasLeakSources } from './scenarios/gas-leak.js';
import { rainstormSources } from './scenarios/rainstorm.js';
import { rushHourSources } from './scenarios/rush-hour.js';
import { formatBeijing, type SimEvent } from './sim-event.js';
import { TruthBuilder, type Truth } from './truth.js';

export const SCENARIOS = ['rainstorm', 'fire-week', 'rush-hour', 'gas-leak', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SimulateOptions {
  scenario: ScenarioName;
  /** Epoch ms, whole seconds. */
  start: number;
  durationMs: number;
  seed: number;
  /** Multiplies event rates (entities and reading frequency, incidents). */
  rateScale: number;
  /** Probability per event of each fault kind (see faults.ts). */
  faults: number;
}

export const LIMITS = {
  maxDurationMs: 31 * 86_400_000,
  maxRateScale: 1000,
  maxFaults: 0.2,
} as const;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `90m`, `24h`, `7d`, `1h30m`, `45s` → ms; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

/** Every problem with the options, one message each (empty when they are valid). */
export function validateOptions(o: SimulateOptions): string[] {
  const problems: string[] = [];
  if (!(SCENARIOS as readonly string[]).includes(o.scenario)) problems.push(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  if (!Number.isFinite(o.start) || o.start % 1000 !== 0) problems.push('--start must be an RFC 3339 time with offset, in whole seconds');
  if (!Number.isFinite(o.durationMs) || o.durationMs < 60_000 || o.durationMs > LIMITS.maxDurationMs) problems.push('--duration must be from 1m to 31d');
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) problems.push('--seed must be a non-negative integer');
  if (!Number.isFinite(o.rateScale) || o.rateScale <= 0 || o.rateScale > LIMITS.maxRateScale) problems.push(`--rate-scale must be a number in (0, ${LIMITS.maxRateScale}]`);
  if (!Number.isFinite(o.faults) || o.faults < 0 || o.faults > LIMITS.maxFaults) problems.push(`--faults must be a probability in [0, ${LIMITS.maxFaults}]`);
  return problems;
}

/** Parses an RFC 3339 start time (the contract's own parser: it refuses impossible dates). */
export function parseStart(text: string): number | undefined {
  return parseRfc3339(text);
}

function sourcesOf(scenario: ScenarioName, ctx: ScenarioContext): Array<Iterable<SimEvent>> {
  switch (scenario) {
    case 'rainstorm':
      return rainstormSources(ctx);
    case 'fire-week':
      return fireWeekSources(ctx);
    case 'rush-hour':
      return rushHourSources(ctx);
    case 'gas-leak':
      return gasLeakSources(ctx);
    case 'mixed':
      return [...fireWeekSources(ctx), ...rainstormSources(ctx), ...rushHourSources(ctx), ...gasLeakSources(ctx)];
  }
}

/** One run: iterate it once for the lines (no trailing newline), then read `truth()`. */
export class Simulation implements Iterable<string> {
  private result: Truth | undefined;
  private started = false;

  constructor(readonly options: SimulateOptions) {
    const problems = validateOptions(options);
    if (problems.length > 0) throw new RangeError(problems.join('; '));
  }

  *[Symbol.iterator](): Generator<string> {
    if (this.started) throw new Error('a Simulation can be iterated once');
    this.started = true;
    const o = this.options;
    const ctx = scenarioContext(o.start, o.start + o.durationMs, o.seed, o.rateScale);
    const injector = new FaultInjector(o.faults, o.seed, o.start + o.durationMs);
    const truth = new TruthBuilder();
    for (const out of injector.apply(mergeByTime(sourcesOf(o.scenario, ctx)))) {
      truth.observe(out);
      yield out.line;
    }
    this.result = truth.finish(
      { scenario: o.scenario, start: formatBeijing(o.start), end: formatBeijing(o.start + o.durationMs), seed: o.seed, rateScale: o.rateScale, faults: o.faults },
      injector.counts,
    );
  }

  /** The ground truth; available once every line has been read. */
  truth(): Truth {
    if (this.result === undefined) throw new Error('the truth is known once the whole stream has been read');
    return this.result;
  }
}

export function simulate(options: SimulateOptions): Simulation {
  return new Simulation(options);
}
