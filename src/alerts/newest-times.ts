/**
 * The newest event seen per entity, for rules that act on arrival: each entity's alert
 * follows its newest event, so a straggler older than that never moves it back. "Newest"
 * is the engine's one event order (src/time/event-order.ts): event time, then id and
 * source, so of two readings at one instant the same one is the newest in any arrival order.
 */
import { isAfter, type EventStamp } from '../time/event-order.js';

/** Snapshot entry; entries from before ties were ordered have only the time. */
export type NewestEntry = [entityId: string, time: number, id?: string, source?: string];

export class NewestTimes {
  private readonly newest = new Map<string, EventStamp>();

  /** Records the event as the entity's newest; false (nothing recorded) for one that comes before the newest seen. */
  advance(entityId: string, time: number, id: string, source: string): boolean {
    const stamp = this.newest.get(entityId);
    if (stamp === undefined) {
      this.newest.set(entityId, { time, id, source });
      return true;
    }
    if (!isAfter(time, id, source, stamp)) return false;
    stamp.time = time;
    stamp.id = id;
    stamp.source = source;
    return true;
  }

  /** Drops entities not heard from since `horizon`. */
  forgetOlderThan(horizon: number): void {
    for (const [entityId, stamp] of this.newest) if (stamp.time < horizon) this.newest.delete(entityId);
  }

  snapshot(): NewestEntry[] {
    return [...this.newest.entries()].map(([k, s]) => [k, s.time, s.id, s.source]);
  }

  restore(entries: NewestEntry[]): void {
    this.newest.clear();
    for (const [k, time, id, source] of entries) this.newest.set(k, { time, id: id ?? '', source: source ?? '' });
  }
}
