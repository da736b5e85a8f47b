/** A one-line progress display for terminals; silent when stderr is not a terminal. */
import { formatRfc3339 } from '../events/event-time.js';
import type { ReplayProgress } from '../replay/replay.js';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function describeProgress(p: ReplayProgress): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const rate = Math.round(p.sent / seconds);
  const at = p.eventTime === null ? '—' : formatRfc3339(p.eventTime);
  return `sent ${formatCount(p.sent)} · ${formatCount(rate)} ev/s · event time ${at} · accepted ${formatCount(p.accepted)} dup ${formatCount(p.duplicates)} rejected ${formatCount(p.rejected)}`;
}

export class ProgressLine {
  private last = 0;
  private readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = stream.isTTY === true;
  }

  update(p: ReplayProgress, now = Date.now()): void {
    if (!this.enabled || now - this.last < 100) return;
    this.last = now;
    const text = describeProgress(p);
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r${text.length > width - 1 ? text.slice(0, width - 1) : text.padEnd(width - 1)}`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
