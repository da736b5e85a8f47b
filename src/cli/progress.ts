/** A one-line progress display for terminals; silent when stderr is not a terminal. */
import type { ReplayProgress } from '../replay/replay.js';
import { formatInZone } from '../time/time-zone.js';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The progress line and the summary. With a target that answers (HTTP), what became of the
 * records: accepted, duplicates, and the rejected by kind — late (older than the
 * watermark), invalid (refused by the contract), and future or conflict when there are
 * any. A broker target only takes records in: the service decides later. Event time is
 * written in the hub's zone (`zone`, HUITIAN_TIMEZONE), as the API writes it.
 */
export function describeProgress(p: ReplayProgress, zone: string, reportsOutcomes = true): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const rate = Math.round(p.sent / seconds);
  const at = p.eventTime === null ? '—' : formatInZone(p.eventTime, zone);
  const head = `sent ${formatCount(p.sent)} · ${formatCount(rate)} ev/s · event time ${at}`;
  if (!reportsOutcomes) return `${head} · the service decides what it accepts (its /metrics and /v1/dead-letters say)`;
  const kinds = [`${formatCount(p.late)} late`, `${formatCount(p.invalid)} invalid`];
  if (p.future > 0) kinds.push(`${formatCount(p.future)} future`);
  if (p.conflicts > 0) kinds.push(`${formatCount(p.conflicts)} conflict`);
  return `${head} · accepted ${formatCount(p.accepted)} · duplicates ${formatCount(p.duplicates)} · rejected ${formatCount(p.rejected)} (${kinds.join(', ')})`;
}

export class ProgressLine {
  private last = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly zone: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true;
  }

  update(p: ReplayProgress, reportsOutcomes = true, now = Date.now()): void {
    if (!this.enabled || now - this.last < 100) return;
    this.last = now;
    const text = describeProgress(p, this.zone, reportsOutcomes);
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r${text.length > width - 1 ? text.slice(0, width - 1) : text.padEnd(width - 1)}`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
