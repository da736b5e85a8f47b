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
  seconds: { json_parse: number; decode: number; engine: number };
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function timed<T>(run: () => T): { value: T; seconds: number } {
  collectGarbage();
  const started = performance.now();
  const value = run();
  return { value, seconds: (performance.now() - started) / 1000 };
}

export function measureInProcess(batches: readonly Batch[]): InProcessResult {
  const events = batches.reduce((n, b) => n + b.lines, 0);

  const parse = timed(() => {
    let parsed = 0;
    for (const b of batches) {
      forEachLine(b.text, (line) => {
        try {
          if (JSON.parse(line) !== null) parsed++;
        } catch {
          // a malformed line the simulator injected; the decoders reject it too
        }
      });
    }
    return parsed;
  });

  const decode = timed(() => {
    let rejected = 0;
    for (const b of batches) {
      forEachLine(b.text, (line) => {
        if (!decodeJson(line).ok) rejected++;
      });
    }
    return rejected;
  });

  const engine = timed(() => {
    const e = new Engine({ ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' });
    let partials = 0;
    let alertChanges = 0;
    let now = Date.parse('2026-07-22T00:00:00Z');
    for (const b of batches) {
      const decoded: HuitianEvent[] = [];
      forEachLine(b.text, (line) => {
        const d = decodeJson(line);
        if (d.ok) decoded.push(d.event);
      });
      const step = e.ingest(decoded, 'bench', now++, true);
      partials += step.partials.length;
      alertChanges += step.alerts.length;
    }
    return { stats: e.stats(), partials, alertChanges };
  });

  const eps = (seconds: number) => Math.round(events / seconds);
  return {
    json_parse_eps: eps(parse.seconds),
    decode_eps: eps(decode.seconds),
    engine_eps: eps(engine.seconds),
    engine_ratio: Math.round((parse.seconds / engine.seconds) * 1000) / 1000,
    events,
    engine: engine.value.stats,
    decodeRejected: decode.value,
    partials: engine.value.partials,
    alertChanges: engine.value.alertChanges,
    seconds: { json_parse: parse.seconds, decode: decode.seconds, engine: engine.seconds },
  };
}
