/** `huitian simulate` through the real command line (main.ts), run by tsx from the sources. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJson } from '../../src/events/decode.js';
import { parseDuration, validateOptions } from '../../src/simulator/simulate.js';
import { options } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// node with tsx's loader, not `npx tsx` (npm itself costs a second of CPU per run).
const HUITIAN = ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'tests', 'helpers', 'huitian-from-source.ts')];

function huitian(...args: string[]) {
  const r = spawnSync(process.execPath, [...HUITIAN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('huitian simulate (command line)', () => {
  it('writes the stream and the truth, and prints a summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huitian-sim-'));
    const out = join(dir, 'gas.ndjson');
    const truthFile = join(dir, 'gas.truth.json');
    const r = huitian('simulate', '--scenario', 'gas-leak', '--start', '2026-07-21T00:00:00+08:00', '--duration', '90m', '--seed', '42', '--faults', '0.01', '--out', out, '--truth', truthFile);
    expect(r.stderr).toContain('gas: peak');
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const truth = JSON.parse(readFileSync(truthFile, 'utf8'));
    expect(lines.length).toBe(truth.stream.lines);
    expect(lines.filter((l) => !decodeJson(l).ok).length).toBe(truth.faults.malformed);
    expect(truth.gas.linesReachingRed).toEqual(['GAS-HLG-01']);
  });

  it('writes to stdout without --out', () => {
    const r = huitian('simulate', '--scenario', 'fire-week', '--duration', '12h', '--seed', '1');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(decodeJson(l).ok).toBe(true);
  });

  it('exits 2 with a clear message on a bad option', () => {
    const r = huitian('simulate', '--scenario', 'mixed', '--duration', 'forever');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--duration <d>' argument 'forever' is invalid");
    const s = huitian('simulate', '--scenario', 'earthquake');
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('must be one of rainstorm, fire-week, rush-hour, gas-leak, mixed');
  });

  it('exits 1 when it cannot write', () => {
    const r = huitian('simulate', '--scenario', 'gas-leak', '--duration', '1h', '--out', '/nonexistent-dir/x.ndjson');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot write /nonexistent-dir/x.ndjson');
  });
});

describe('options', () => {
  it('parses durations', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('1.5h')).toBe(90 * 60_000);
    for (const bad of ['', '24', 'h', '-1h', '1w', '1h 30m']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('lists every problem with programmatic options', () => {
    expect(validateOptions(options('mixed', '1h'))).toEqual([]);
    const problems = validateOptions({ ...options('mixed', '1h'), durationMs: 0, seed: -1, rateScale: 0, faults: 0.5, start: Number.NaN });
    expect(problems).toHaveLength(5);
  });
});
