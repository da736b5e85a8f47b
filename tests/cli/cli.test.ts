/**
 * The built `huitian` command (bin/huitian.js → dist/): --help, and the exit codes
 * 0 ok, 1 failure, 2 usage. Built once here, as `npm ci` does through `prepare`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build.js';
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

let demo: ReturnType<typeof spawn> | undefined;
let stdout = '';

/**
 * `huitian demo`, as `npm run demo` runs it, opens onto the console: its URL is the first
 * thing printed after the banner, the page is served there, and the suggested URLs are
 * over local (Beijing) days and answer.
 */
describe('huitian demo (built CLI)', () => {
  beforeAll(async () => {
    // dist/ is built by the file's first beforeAll; the console as `npm ci` builds it.
    await buildConsole();
    demo = spawn(process.execPath, [join(ROOT, 'bin', 'huitian.js'), 'demo', '--port', '0', '--data-dir', tempDir(), '--log-level', 'warn'], { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      demo!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Ctrl-C')) resolve();
      });
      demo!.on('exit', (code) => reject(new Error(`huitian demo exited with ${code}: ${stdout}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (demo === undefined || demo.exitCode !== null) return;
    const exited = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGINT');
    await exited;
  });

  it('prints the console URL first, and serves the console there', async () => {
    const lines = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    expect(lines[0]).toBe('回天城市大脑 · huitian-brain demo');
    expect(lines[1]).toMatch(/^console: http:\/\/127\.0\.0\.1:\d+\/console\/$/);
    const url = lines[1]!.slice('console: '.length);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('app.js');
    const root = await fetch(new URL('/', url), { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
  });

  it('suggests URLs over local (Beijing) days that answer', async () => {
    const line = stdout.split('\n').find((l) => l.includes('5-min fire response coverage'))!;
    const url = /curl '([^']+)'/.exec(line)![1]!;
    const query = new URL(url).searchParams;
    expect([query.get('from'), query.get('to')]).toEqual(['2026-07-20T00:00:00+08:00', '2026-07-22T00:00:00+08:00']);
    const answer = (await (await fetch(url)).json()) as { value: number | null; from: string };
    expect(answer.from).toBe('2026-07-20T00:00:00+08:00');
    expect(answer.value).not.toBeNull();
    expect(stdout).toMatch(/event time 2026-07-21T07:59:58\+08:00/);
  });
});
