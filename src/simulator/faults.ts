/**
 * What real producers do to a stream, injected on purpose (`--faults p`).
 *
 * Per event, each with probability ≈ p:
 * - duplicate: the same event (same source and id) delivered again 0–90 s of stream
 *   time later — an at-least-once retry;
 * - out of order: the event held back and delivered after events up to 2–45 s newer.
 *   The service allows 60 s of lateness, so these must change nothing; 45 s keeps a
 *   margin that no rounding can eat;
 * - late: a sensor reading held back 125–600 s (a gateway that buffered while offline),
 *   beyond the lateness bound, which the service rejects. Only readings are made late:
 *   a lost reading is a gap in a gauge, while a lost dispatch event would turn the
 *   incident it belongs to into a different incident altogether;
 * - malformed: an extra, broken copy of the event — truncated JSON, a required field
 *   missing, or an impossible value (negative depth, negative occupancy, %LEL over
 *   100) — which the service dead-letters. The valid original still goes out.
 * An event is made late or out of order, not both; a late event is not also duplicated.
 * A reading drawn late whose hold would run past the end of the stream goes out in order
 * instead, and is not counted: nothing newer would come to release it, so the end of the
 * stream would flush it early, perhaps within the lateness bound (48 s behind for one
 * seed), and the service would accept it. Its random draws are the same, so the rest of the stream
 * is not changed by it.
 * With p = 0 the stream passes through untouched and no random number is drawn.
 */
import type { EventType } from '../events/schemas.js';
import { MinHeap } from '../time/min-heap.js';
import { Rng } from './prng.js';
import { BeijingTimeFormatter, toCloudEventLine, type SimEvent } from './sim-event.js';

export const MALFORMED_KINDS = ['bad_json', 'missing_field', 'invalid_value'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface FaultCounts {
  duplicates: number;
  outOfOrder: number;
  late: number;
  malformed: number;
  malformedByKind: Record<MalformedKind, number>;
}

/** One line of the output, with what the simulator knows about it. */
export interface OutputLine {
  line: string;
  /** The event the line carries, when it is a valid one. */
  event: SimEvent | null;
  malformed: MalformedKind | null;
  /** The event goes out more than once (an injected duplicate); other ids are unique by construction. */
  repeated: boolean;
}

export const MAX_DISORDER_MS = 45_000;
export const LATE_MIN_MS = 125_000;
const LATE_MAX_MS = 600_000;
const DUPLICATE_MAX_MS = 90_000;

const READING_TYPES: ReadonlySet<EventType> = new Set(['huitian.waterlogging.reading', 'huitian.parking.occupancy', 'huitian.utility.reading']);

/** A required `data` field of each type, for the "missing field" fault. */
const REQUIRED_FIELD: Record<EventType, string> = {
  'huitian.waterlogging.reading': 'depthCm',
  'huitian.utility.reading': 'metric',
  'huitian.utility.alarm': 'state',
  'huitian.parking.occupancy': 'capacity',
  'huitian.dispatch.received': 'district',
  'huitian.dispatch.dispatched': 'unitId',
  'huitian.dispatch.arrived': 'unitId',
  'huitian.dispatch.closed': 'reason',
};

/** An impossible value for each type, for the "invalid value" fault. */
function impossible(e: SimEvent): Record<string, unknown> {
  const data = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'huitian.waterlogging.reading':
      return { ...data, depthCm: -Math.abs(e.data.depthCm) - 1 };
    case 'huitian.parking.occupancy':
      return { ...data, occupied: -e.data.occupied - 1 };
    case 'huitian.utility.reading':
      return e.data.metric === 'gas_lel_pct' ? { ...data, value: 100 + e.data.value + 1 } : { ...data, network: 'steam' };
    case 'huitian.dispatch.received':
      return { ...data, category: 'earthquake' };
    case 'huitian.utility.alarm':
      return { ...data, state: 'open' };
    case 'huitian.dispatch.closed':
      return { ...data, reason: 'resolved' };
    case 'huitian.dispatch.dispatched':
    case 'huitian.dispatch.arrived':
      return { ...data, incidentId: '' };
  }
}

interface Held {
  releaseAt: number;
  order: number;
  event: SimEvent;
  repeated: boolean;
}

export class FaultInjector {
  readonly counts: FaultCounts = { duplicates: 0, outOfOrder: 0, late: 0, malformed: 0, malformedByKind: { bad_json: 0, missing_field: 0, invalid_value: 0 } };
  private readonly rng: Rng;
  private readonly held = new MinHeap<Held>((a, b) => a.releaseAt < b.releaseAt || (a.releaseAt === b.releaseAt && a.order < b.order));
  private order = 0;
  private readonly times = new BeijingTimeFormatter();

  /**
   * @param endAt the end of the stream (ms): no event is held past it. Streams have events up
   *   to close to their end, so a reading held until then is still more than the lateness
   *   bound behind the newest event when the end flushes it.
   */
  constructor(
    private readonly p: number,
    seed: number,
    private readonly endAt: number,
  ) {
    this.rng = new Rng(seed, 'faults');
  }

  /** The output lines for a time-ordered input stream. */
  *apply(events: Iterable<SimEvent>): Generator<OutputLine> {
    if (this.p === 0) {
      for (const e of events) yield this.valid(e, false);
      return;
    }
    for (const e of events) {
      if (this.held.size > 0 && this.held.peek()!.releaseAt <= e.time) yield* this.release(e.time);
      const r = this.rng;
      const late = READING_TYPES.has(e.type) && r.chance(this.p);
      const disorder = !late && r.chance(this.p);
      const duplicate = !late && r.chance(this.p);
      const malformed = r.chance(this.p);
      if (late) {
        const releaseAt = e.time + r.int(LATE_MIN_MS / 1000, LATE_MAX_MS / 1000) * 1000;
        if (releaseAt <= this.endAt) {
          this.counts.late++;
          this.hold(e, releaseAt, false);
        } else yield this.valid(e, false);
      } else if (disorder) {
        this.counts.outOfOrder++;
        this.hold(e, e.time + r.int(2, MAX_DISORDER_MS / 1000) * 1000, duplicate);
      } else {
        yield this.valid(e, duplicate);
      }
      if (duplicate) {
        this.counts.duplicates++;
        const after = r.int(0, DUPLICATE_MAX_MS / 1000) * 1000;
        if (after === 0 && !disorder) yield this.valid(e, true);
        else this.hold(e, e.time + Math.max(after, 1000), true);
      }
      if (malformed) yield this.malformed(e, r);
    }
    yield* this.release(Number.POSITIVE_INFINITY);
  }

  private hold(event: SimEvent, releaseAt: number, repeated: boolean): void {
    this.held.push({ releaseAt, order: this.order++, event, repeated });
  }

  /** Held events whose release time the stream has reached go out before an event at `now`. */
  private *release(now: number): Generator<OutputLine> {
    while (this.held.size > 0 && this.held.peek()!.releaseAt <= now) {
      const h = this.held.pop()!;
      yield this.valid(h.event, h.repeated);
    }
  }

  private valid(e: SimEvent, repeated: boolean): OutputLine {
    return { line: toCloudEventLine(e, this.times), event: e, malformed: null, repeated };
  }

  private malformed(e: SimEvent, r: Rng): OutputLine {
    const kind = MALFORMED_KINDS[r.int(0, MALFORMED_KINDS.length - 1)]!;
    this.counts.malformed++;
    this.counts.malformedByKind[kind]++;
    let line: string;
    if (kind === 'bad_json') {
      const whole = toCloudEventLine(e, this.times);
      line = whole.slice(0, Math.floor(whole.length * r.uniform(0.3, 0.9))); // a write cut short
    } else if (kind === 'missing_field') {
      const data = { ...(e.data as Record<string, unknown>) };
      delete data[REQUIRED_FIELD[e.type]];
      line = toCloudEventLine({ ...e, data } as SimEvent, this.times);
    } else {
      line = toCloudEventLine({ ...e, data: impossible(e) } as SimEvent, this.times);
    }
    return { line, event: null, malformed: kind, repeated: false };
  }
}
