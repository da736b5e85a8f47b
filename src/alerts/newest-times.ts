/**
 * The newest event time seen per entity, for rules that act on arrival: each entity's
 * alert follows its newest event, so a straggler older than that never moves it back.
 */
export class NewestTimes {
  private readonly times = new Map<string, number>();

  /** Records `time` as the entity's newest; false (nothing recorded) for an event older than the newest seen. */
  advance(entityId: string, time: number): boolean {
    const newest = this.times.get(entityId);
    if (newest !== undefined && time < newest) return false;
    this.times.set(entityId, time);
    return true;
  }

  /** Drops entities not heard from since `horizon`. */
  forgetOlderThan(horizon: number): void {
    for (const [entityId, time] of this.times) if (time < horizon) this.times.delete(entityId);
  }

  snapshot(): Array<[string, number]> {
    return [...this.times.entries()];
  }

  restore(entries: Array<[string, number]>): void {
    this.times.clear();
    for (const [k, v] of entries) this.times.set(k, v);
  }
}
