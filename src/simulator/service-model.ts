/**
 * What the service will do with each valid line, restated from DESIGN §3 in a few lines
 * so that the truth never depends on the engine's own code: a repeat of (source, id) is
 * a duplicate; otherwise an event older than the watermark — the newest event time
 * accepted so far minus the allowed lateness (60 s) — is late; anything else is
 * accepted. Duplicates are checked first, as the service does.
 *
 * Only events that go out more than once need their (source, id) remembered: every
 * other id is unique by construction (a test holds the simulator to that), which spares
 * a million set insertions. Memory is bounded: keys are kept per minute of event time
 * and forgotten 10 minutes behind the watermark. The injector repeats an event at most
 * 90 s after it, and an event that old is late anyway, so no repeat outlives its key.
 */
const MINUTE = 60_000;
const KEY_RETENTION_MS = 10 * MINUTE;

export type ServiceOutcome = 'accepted' | 'duplicate' | 'late';

export class ServiceModel {
  private newest = Number.NEGATIVE_INFINITY;
  /** Ids seen, per source (a few sources, so no per-event key string is built). */
  private readonly ids = new Map<string, Set<string>>();
  /** Per minute of event time, the (source, id) pairs added, for forgetting. */
  private readonly byMinute = new Map<number, { sources: string[]; ids: string[] }>();
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

  /** `repeated`: the same (source, id) goes out more than once in this stream. */
  classify(source: string, id: string, time: number, repeated: boolean): ServiceOutcome {
    let seen = this.ids.get(source);
    if (repeated) {
      if (seen === undefined) this.ids.set(source, (seen = new Set()));
      if (seen.has(id)) {
        this.counts.duplicates++;
        return 'duplicate';
      }
    }
    if (time < this.watermark) {
      this.counts.late++;
      return 'late';
    }
    this.counts.accepted++;
    if (time > this.newest) {
      this.newest = time;
      if (this.byMinute.size > 0) this.forget();
    }
    if (!repeated) return 'accepted';
    seen!.add(id);
    const minute = Math.floor(time / MINUTE) * MINUTE;
    let added = this.byMinute.get(minute);
    if (added === undefined) {
      this.byMinute.set(minute, (added = { sources: [], ids: [] }));
      if (minute < this.oldestMinute) this.oldestMinute = minute;
    }
    added.sources.push(source);
    added.ids.push(id);
    return 'accepted';
  }

  private forget(): void {
    const horizon = this.watermark - KEY_RETENTION_MS;
    while (this.oldestMinute + MINUTE <= horizon) {
      const added = this.byMinute.get(this.oldestMinute);
      if (added !== undefined) {
        for (let i = 0; i < added.ids.length; i++) this.ids.get(added.sources[i]!)!.delete(added.ids[i]!);
        this.byMinute.delete(this.oldestMinute);
      }
      this.oldestMinute += MINUTE;
      if (this.byMinute.size === 0) {
        this.oldestMinute = Number.POSITIVE_INFINITY;
        return;
      }
    }
  }
}
