/**
 * Starting the benchmark's child processes: the compiled `.js` next to this file when
 * the benchmark runs compiled (`npm run bench`), the `.ts` through tsx when a test runs
 * the benchmark code from source.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildOptions {
  /** Extra node flags, e.g. `--expose-gc`, `--cpu-prof`. */
  nodeFlags?: string[];
  args?: string[];
}

export function forkChild(name: string, options: ChildOptions = {}): ChildProcess {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const file = join(dirname(here), `${name}${ext}`);
  // The heap tuning the benchmark runs with (npm run bench) is the service's, so children get it too.
  const heapFlags = process.execArgv.filter((f) => f.startsWith('--max-semi-space-size'));
  const flags = [...(ext === '.ts' ? ['--import', 'tsx'] : []), ...heapFlags, ...(options.nodeFlags ?? [])];
  return fork(file, options.args ?? [], { execArgv: flags, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Sends a request over IPC and resolves with the first answer of the same `type`. */
export function ask<T>(child: ChildProcess, message: { type: string; [k: string]: unknown }): Promise<T> {
  const answer = waitFor<T>(child, message.type);
  child.send(message);
  return answer;
}

/** Resolves with the first message of a type the child sends by itself. */
export function waitFor<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    // A child that is gone already never answers: say so instead of waiting for ever.
    if (hasExited(child)) {
      reject(new Error(`child exited (code ${child.exitCode}, signal ${child.signalCode}) before sending ${type}`));
      return;
    }
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`child exited (code ${code}, signal ${signal}) before sending ${type}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Whether the child has ended, by an exit or by a signal: a child a signal ended keeps
 * `exitCode` null, so that alone does not tell (waiting for an 'exit' already emitted hung
 * the failover run for ever after the SIGKILL of its victim, and the other member, caught
 * up, looked like a member that had vanished).
 */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves once the child has exited (also before the call), with its exit code: null when a signal ended it. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (hasExited(child)) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
