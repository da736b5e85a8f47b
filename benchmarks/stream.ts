/**
 * The benchmark's input: a simulated 回天 stream (`huitian simulate`'s pure API), written
 * once to a cache file keyed by the simulator arguments and a hash of the simulator's
 * own code, so a change to the generator never reuses a stale stream.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration, parseStart, simulate, type ScenarioName } from '../src/simulator/simulate.js';

export interface StreamSpec {
  scenario: ScenarioName;
  start: string;
  duration: string;
  seed: number;
  rateScale: number;
  faults: number;
}

/**
 * 24 h of the mixed scenario at 50× the base rates: ~1.13 million events, with 1 % of
 * each producer fault (duplicates, disorder within the lateness, late, malformed), as a
 * real feed would have.
 */
export const DEFAULT_STREAM: StreamSpec = {
  scenario: 'mixed',
  start: '2026-07-21T00:00:00+08:00',
  duration: '24h',
  seed: 42,
  rateScale: 50,
  faults: 0.01,
};

export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'huitian-bench');

/** Hash of the simulator's code (this build's), part of the cache key. */
function simulatorHash(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'simulator');
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!name.endsWith('.map')) hash.update(name).update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 12);
}

export function streamFileName(spec: StreamSpec): string {
  const start = spec.start.replace(/[^0-9A-Za-z+-]/g, '');
  return `${spec.scenario}-${start}-${spec.duration}-seed${spec.seed}-x${spec.rateScale}-f${spec.faults}-${simulatorHash()}.ndjson`;
}

/** Writes the stream to the cache unless it is there; returns its path. */
export function ensureStream(spec: StreamSpec, cacheDir = DEFAULT_CACHE_DIR): { path: string; generated: boolean; seconds: number } {
  const path = join(cacheDir, streamFileName(spec));
  if (existsSync(path)) return { path, generated: false, seconds: 0 };
  const started = performance.now();
  mkdirSync(cacheDir, { recursive: true });
  const start = parseStart(spec.start);
  const durationMs = parseDuration(spec.duration);
  if (start === undefined || durationMs === undefined) throw new Error(`bad stream spec ${JSON.stringify(spec)}`);
  const sim = simulate({ scenario: spec.scenario, start, durationMs, seed: spec.seed, rateScale: spec.rateScale, faults: spec.faults });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const chunk = Buffer.allocUnsafe(1 << 22);
    let used = 0;
    for (const line of sim) {
      if (used + line.length * 3 + 1 > chunk.length) {
        writeSync(fd, chunk, 0, used);
        used = 0;
      }
      used += chunk.write(line, used);
      chunk[used++] = 0x0a;
    }
    if (used > 0) writeSync(fd, chunk, 0, used);
  } finally {
    closeSync(fd);
  }
  // Renamed into place only when complete, so an interrupted run never leaves half a stream.
  renameSync(tmp, path);
  return { path, generated: true, seconds: (performance.now() - started) / 1000 };
}

/** A batch of NDJSON lines, as bytes (what goes over HTTP) and as text (what is parsed in process). */
export interface Batch {
  bytes: Buffer;
  text: string;
  lines: number;
}

/** Reads the first `limit` lines of an NDJSON file, cut into batches of `batchLines`. */
export function loadBatches(path: string, batchLines: number, limit = Number.POSITIVE_INFINITY): Batch[] {
  const all = readFileSync(path);
  const batches: Batch[] = [];
  let start = 0;
  let total = 0;
  while (start < all.length && total < limit) {
    let end = start;
    let n = 0;
    while (end < all.length && n < batchLines && total + n < limit) {
      const nl = all.indexOf(0x0a, end);
      end = nl < 0 ? all.length : nl + 1;
      n++;
    }
    // A copy, so that the whole file is not kept alive by the slices.
    const bytes = Buffer.from(all.subarray(start, end));
    batches.push({ bytes, text: bytes.toString('utf8'), lines: n });
    total += n;
    start = end;
  }
  return batches;
}

/** Calls `visit` with each non-empty line of an NDJSON text, as the HTTP ingest reads it. */
export function forEachLine(text: string, visit: (line: string) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) visit(text.slice(start, end));
    start = end + 1;
  }
}
