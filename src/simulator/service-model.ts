/**
 * What the service will do with each valid line, restated from DESIGN §3 in a few lines
 * so that the truth never depends on the engine's own code: a repeat of (source, id) is
 * a duplicate; otherwise an event older than the watermark — the newest event time
 * accepted so far minus the allowed lateness (60 s) — is late; anything else is
 * accepted. Duplicates are checked first, as the service does.
 *
 * Memory is bounded: keys are kept per minute of event time and forgotten 10 minutes
 * behind the watermark. The injector repeats an event at most 90 s after it, and an
 * event that old is late anyway, so no repeat can outlive its key.
 */
const MINUTE = 60_000;
const KEY_RETENTION_MS = 10 * MINUTE;

export type ServiceOutcome = 'accepted' | 'duplicate' | 'late';

export class ServiceModel {
  private newest = Number.NEGATIVE_INFINITY;
  private readonly keys = new Set<string>();
  private readonly byMinute = new Map<number, string[]>();
  private oldestMinute = Number.POSITIVE_INFINITY;
  readonly counts = { accepted: 0, duplicates: 0, late: 0 };

  constructor(readonly latenessMs = 60_000) {}

  /** The watermark after the events seen so far (−∞ before the first). */
  get watermark(): number {
    return this.newest - this.latenessMs;
  }

  /** Newest accepted event time. */
  get newestTime(): number {
    return this.newest;
  }

  classify(source: string, id: string, time: number): ServiceOutcome {
    const key = `${source}\u0000${id}`;
    if (this.keys.has(key)) {
      this.counts.duplicates++;
      return 'duplicate';
    }
    if (time < this.watermark) {
      this.counts.late++;
      return 'late';
    }
    this.counts.accepted++;
    this.keys.add(key);
    const minute = Math.floor(time / MINUTE) * MINUTE;
    let list = this.byMinute.get(minute);
    if (list === undefined) {
      this.byMinute.set(minute, (list = []));
      if (minute < this.oldestMinute) this.oldestMinute = minute;
    }
    list.push(key);
    if (time > this.newest) {
      this.newest = time;
      this.forget();
    }
    return 'accepted';
  }

  private forget(): void {
    const horizon = this.watermark - KEY_RETENTION_MS;
    while (this.oldestMinute + MINUTE <= horizon) {
      for (const key of this.byMinute.get(this.oldestMinute) ?? []) this.keys.delete(key);
      this.byMinute.delete(this.oldestMinute);
      this.oldestMinute += MINUTE;
      if (this.byMinute.size === 0) {
        this.oldestMinute = Number.POSITIVE_INFINITY;
        return;
      }
    }
  }
}
