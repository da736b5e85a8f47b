/**
 * The one order of an entity's events that every "first", "latest" and "newest" in the
 * engine follows: event time, then, for equal times, the event's identity (`id`, then
 * `source`). Arrival order never decides (DESIGN §6: "where two events share a time,
 * the data decides"); (source, id) is unique among accepted events, so the order is
 * total and two readings at one instant always come out the same way round.
 */
export interface EventStamp {
  time: number;
  id: string;
  source: string;
}

/** Compares two events of one entity: negative when `a` comes first. */
export function compareEvents(aTime: number, aId: string, aSource: string, bTime: number, bId: string, bSource: string): number {
  if (aTime !== bTime) return aTime < bTime ? -1 : 1;
  if (aId !== bId) return aId < bId ? -1 : 1;
  if (aSource !== bSource) return aSource < bSource ? -1 : 1;
  return 0;
}

/** Whether the event (time, id, source) comes after `stamp` in that order. */
export function isAfter(time: number, id: string, source: string, stamp: EventStamp): boolean {
  return compareEvents(time, id, source, stamp.time, stamp.id, stamp.source) > 0;
}
