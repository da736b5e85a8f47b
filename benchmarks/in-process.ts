/**
 * In-process throughput over the same NDJSON batches, each figure one full pass:
 * - `json_parse_eps`: bare JSON.parse of every line (the floor under any ingest);
 * - `decode_eps`: JSON.parse + envelope and data validation (decodeJson);
 * - `engine_eps`: decode, then Engine.ingest per batch in replay mode — dedup, lateness,
 *   watermark, every KPI and every alert rule; the step results are produced but not stored.
 * Lines are cut from each batch's text the way the HTTP ingest cuts them, in every pass.
 */
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineStats } from '../src/engine/engine.js';
import { decodeJson } from '../src/events/decode.js';
import type { HuitianEvent } from '../src/events/schemas.js';
import { forEachLine, type Batch } from './stream.js';

export interface InProcessResult {
  json_parse_eps: number;
  decode_eps: number;
  engine_eps: number;
  engine_ratio: number;
  events: number;
  /** What the engine made of the stream; HTTP ingest must reach the same `accepted`. */
  engine: EngineStats;
  decodeRejected: number;
  partials: number;
  alertChanges: number;
  /** Each pass ran this many times; the best time of each counts. */
  rounds: number;
  seconds: { json_parse: number; decode: number; engine: number };
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Lines per second of a pass over every batch, after a full collection of the garbage before it. */
function timePass(batches: readonly Batch[], pass: (b: Batch) => void): number {
  collectGarbage();
  const started = performance.now();
  for (const b of batches) pass(b);
  return performance.now() - started;
}

export function measureInProcess(batches: readonly Batch[], rounds = 3): InProcessResult {
  const events = batches.reduce((n, b) => n + b.lines, 0);
  let rejected = 0;
  let last: { stats: EngineStats; partials: number; alertChanges: number } | undefined;

  const parse = (b: Batch) => {
    forEachLine(b.text, (line) => {
      try {
        JSON.parse(line);
      } catch {
        // a malformed line the simulator injected; the decoders reject it too
      }
    });
  };
  const decode = (b: Batch) => {
    forEachLine(b.text, (line) => {
      if (!decodeJson(line).ok) rejected++;
    });
  };
  const engineRun = () => {
    const engine = new Engine({ ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' });
    let partials = 0;
    let alertChanges = 0;
    let now = Date.parse('2026-07-22T00:00:00Z');
    const ms = timePass(batches, (b) => {
      const decoded: HuitianEvent[] = [];
      forEachLine(b.text, (line) => {
        const d = decodeJson(line);
        if (d.ok) decoded.push(d.event);
      });
      const step = engine.ingest(decoded, 'bench', now++, true);
      partials += step.partials.length;
      alertChanges += step.alerts.length;
    });
    last = { stats: engine.stats(), partials, alertChanges };
    return ms;
  };

  // Each pass runs alone over the whole stream, and the set is repeated: the best round
  // of each counts, so a moment when a shared machine was busy does not decide a figure.
  let parseMs = Number.POSITIVE_INFINITY;
  let decodeMs = Number.POSITIVE_INFINITY;
  let engineMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    rejected = 0;
    parseMs = Math.min(parseMs, timePass(batches, parse));
    decodeMs = Math.min(decodeMs, timePass(batches, decode));
    engineMs = Math.min(engineMs, engineRun());
  }
  const eps = (elapsedMs: number) => Math.round((events / elapsedMs) * 1000);
  return {
    json_parse_eps: eps(parseMs),
    decode_eps: eps(decodeMs),
    engine_eps: eps(engineMs),
    engine_ratio: Math.round((parseMs / engineMs) * 1000) / 1000,
    events,
    engine: last!.stats,
    decodeRejected: rejected,
    partials: last!.partials,
    alertChanges: last!.alertChanges,
    rounds,
    seconds: { json_parse: parseMs / 1000, decode: decodeMs / 1000, engine: engineMs / 1000 },
  };
}
