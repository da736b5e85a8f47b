/**
 * The built `huitian` command (bin/huitian.js → dist/): --help, and the exit codes
 * 0 ok, 1 failure, 2 usage. Built once here, as `npm ci` does through `prepare`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIRE_FIXTURE } from '../fixtures/fire-response-small.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'huitian.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function huitian(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: tempDir(), env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Type errors still emit JavaScript; `npm test` reports them through its own tsc run.
  }
  expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js'))).toBe(true);
}, 120_000);

describe('huitian (built CLI)', () => {
  it('answers --help with exit code 0 on the program and every command', async () => {
    const runs = await Promise.all([['--help'], ['validate', '--help'], ['replay', '--help'], ['serve', '--help'], ['demo', '--help']].map((a) => huitian(a)));
    for (const r of runs) expect([r.code, r.stderr]).toEqual([0, '']);
    expect(runs[0]!.stdout).toMatch(/^Usage: huitian /m);
    for (const command of ['serve', 'replay', 'validate', 'demo']) expect(runs[0]!.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(runs[1]!.stdout).toMatch(/^Usage: huitian validate \[options\] <file>/m);
    expect(runs[2]!.stdout).toContain('--speed <factor>');
    expect(runs[3]!.stdout).toContain('--port <value>');
  });

  it('exits 0 for a valid file, 1 with file:line: reason for bad lines, 2 for usage errors', async () => {
    const bad = join(tempDir(), 'bad.ndjson');
    writeFileSync(bad, [JSON.stringify(waterlogging('a', 0, 'P1', 10, HLG)), JSON.stringify(waterlogging('b', 60, 'P1', -2, HLG)), 'nope'].join('\n') + '\n');
    const [ok, failing, missingArg, missingFile, unknown, badSpeed, badConfig] = await Promise.all([
      huitian(['validate', FIRE_FIXTURE]),
      huitian(['validate', bad]),
      huitian(['validate']),
      huitian(['validate', join(tempDir(), 'nope.ndjson')]),
      huitian(['frobnicate']),
      huitian(['replay', FIRE_FIXTURE, '--speed', 'fast']),
      huitian(['serve', '--port', 'abc', '--data-dir', tempDir()], { HUITIAN_TIME_MODE: 'sometimes' }),
    ]);
    expect([ok.code, ok.stdout]).toEqual([0, '21 events: 21 valid, 0 invalid\n']);
    expect(failing.code).toBe(1);
    const lines = failing.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${bad}:2: data.depthCm: must be ≥ 0`);
    expect(lines[1]).toMatch(new RegExp(`^${bad.replace(/[.]/g, '\\.')}:3: \\(event\\): invalid JSON \\(`));
    expect(lines[2]).toBe('3 events: 1 valid, 2 invalid');
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain("missing required argument 'file'");
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain('huitian validate: no such file');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(badSpeed.code).toBe(2);
    expect(badSpeed.stderr).toContain('must be a positive number');
    // A bad configuration stops start-up, naming every bad key.
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/^huitian: configuration is invalid: /);
    expect(badConfig.stderr).toContain('--port: ');
    expect(badConfig.stderr).toContain('HUITIAN_TIME_MODE: ');
  });
});
