/**
 * The benchmark's wait for a child process to end (benchmarks/child.ts `exited`), which the
 * failover run calls on the member it SIGKILLed: a child a signal ended before the call has
 * no exit code, and waiting for its 'exit' again hung that run for ever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { exited } from '../../benchmarks/child.js';

const sleeper = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });

/** The answer of `exited`, or 'still waiting' 2 s later. */
function within2s(child: ChildProcess): Promise<number | null | 'still waiting'> {
  return Promise.race([exited(child), new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 2000).unref())]);
}

describe('exited', () => {
  it('resolves for a child that a signal ended before the call', async () => {
    const child = sleeper();
    await once(child, 'spawn');
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');
    expect(await within2s(child)).toBeNull();
  });

  it('resolves with the exit code of a child that exited before the call', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(await within2s(child)).toBe(3);
  });

  it('waits for a child still running, until a signal ends it', async () => {
    const child = sleeper();
    await once(child, 'spawn');
    const waiting = exited(child);
    child.kill('SIGKILL');
    expect(await waiting).toBeNull();
    expect(child.signalCode).toBe('SIGKILL');
  });
});
