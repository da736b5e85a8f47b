/**
 * `huitian` as a real child process, run from the TypeScript sources (no build of dist/,
 * which tests/cli/cli.test.ts does and would race with), on a free port, with its output
 * collected; for the tests of signals and of the demo across restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';
import { tempDir } from './service.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HUITIAN = ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'tests', 'helpers', 'huitian-from-source.ts')];
const children: ChildProcess[] = [];

/** Kills what a test left running (call once per test file). */
export function useChildCleanup(): void {
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface Started {
  child: ChildProcess;
  base: string;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<Exit>;
}

/** Starts `huitian <args>` on a free port and waits until it answers /healthz. */
export async function startHuitian(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [...HUITIAN, ...args], {
    cwd: tempDir(),
    env: { ...process.env, HUITIAN_PORT: String(port), HUITIAN_DATA_DIR: tempDir(), HUITIAN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    // A signal leaves exitCode null: without signalCode a child killed during start-up waited out the deadline.
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`huitian ${args.join(' ')} exited ${child.exitCode ?? child.signalCode}: ${output}`);
    const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`huitian ${args.join(' ')} did not answer /healthz: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, base, output: () => output, exited };
}

/** Resolves to the exit, or to 'still running' after `ms`. */
export async function exitWithin(s: Started, ms: number): Promise<Exit | 'still running'> {
  const timeout = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms));
  return Promise.race([s.exited, timeout]);
}

/** Waits until the process has written `text`. */
export async function waitForOutput(s: Started, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in the output: ${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
