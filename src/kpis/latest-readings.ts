/**
 * Per-entity readings for gauges sampled once a minute (waterlogging depth, parking
 * occupancy, alarm state).
 *
 * A gauge minute [B−60 s, B) is sampled only when the watermark reaches B, i.e. when no
 * reading older than B can still arrive, and it uses each entity's latest reading with a
 * time before B. Readings that arrived out of order, or ahead of the watermark, wait in
 * a short per-entity list sorted by event time until their minute is sampled. This is
 * what makes a gauge independent of arrival order within the allowed lateness.
 */
import { STALE_ENTITY_MS } from '../engine/step-context.js';
import { compareEvents } from '../time/event-order.js';
import type { EntityGauge } from './entity-gauge.js';

export interface Timed<V> {
  time: number;
  value: V;
}

interface PendingReading<V, M> extends Timed<V> {
  /** The reading's metadata (district, name…), merged into `meta` when it is applied. */
  meta?: M;
  /** The event's identity, which orders two readings at one instant (src/time/event-order.ts). */
  id?: string;
  source?: string;
}

export interface EntityReadings<V, M> {
  /**
   * Metadata as of the last sample: each field from the newest applied reading that gave
   * it. Gauges tag their partials with it, so it must not depend on readings ahead of
   * the watermark, which some arrival orders have seen and others not.
   */
  meta: M;
  /** Metadata from the newest reading seen, applied or not: for rules that act on arrival. */
  newestMeta: M;
  /** Time of the newest reading seen (pending or applied); drives staleness. */
  newestTime: number;
  /** Identity of that reading, so that of two readings at one instant the same one is the newest. */
  newestId?: string;
  newestSource?: string;
  /** Latest reading applied at the last sample, if any. */
  current: Timed<V> | undefined;
  pending: Array<PendingReading<V, M>>;
  /**
   * What the gauge keeps with the entity between samples (its KPI series, its last
   * fields): derived, so not part of a snapshot, and gone with the entity.
   */
  gauge?: EntityGauge;
  /**
   * Derived, not snapshotted: the metadata object of the last reading added, which the
   * next reading with equal metadata shares (a sensor repeats its district and name in
   * every reading), and the objects last merged into `newestMeta` and `meta`: merging the
   * same object twice in a row changes nothing, so it is skipped.
   */
  lastMeta?: M;
  newestMerged?: M;
  merged?: M;
}

export interface ReadingsSnapshot<V, M> {
  entities: Array<[string, EntityReadings<V, M>]>;
}

export class LatestReadings<V, M extends object> {
  readonly entities = new Map<string, EntityReadings<V, M>>();
  /** The one reading inside a minute, the common case, passed without a new array. */
  private readonly oneInMinute: Array<Timed<V>> = [];

  /** `sameMeta`: whether two readings' metadata are equal, field by field. */
  constructor(private readonly sameMeta: (a: M, b: M) => boolean) {}

  /**
   * Adds a reading with its metadata; fields the reading leaves undefined keep their
   * previous value. `newestMeta` follows the newest reading at once, `meta` only as the
   * readings are sampled, in event-time order.
   */
  add(entityId: string, time: number, value: V, meta: M, id: string, source: string): void {
    let entity = this.entities.get(entityId);
    if (entity === undefined) {
      // `meta` starts empty and is filled by the first sample that applies a reading.
      entity = {
        meta: {} as M,
        newestMeta: { ...meta },
        newestTime: time,
        newestId: id,
        newestSource: source,
        current: undefined,
        pending: [{ time, value, meta, id, source }],
        lastMeta: meta,
        newestMerged: meta,
      };
      this.entities.set(entityId, entity);
      return;
    }
    if (entity.lastMeta !== undefined && this.sameMeta(entity.lastMeta, meta)) meta = entity.lastMeta;
    else entity.lastMeta = meta;
    if (time > entity.newestTime || (time === entity.newestTime && compareEvents(time, id, source, time, entity.newestId ?? '', entity.newestSource ?? '') > 0)) {
      entity.newestTime = time;
      entity.newestId = id;
      entity.newestSource = source;
      if (meta !== entity.newestMerged) {
        mergeMetaInto(entity.newestMeta, meta);
        entity.newestMerged = meta;
      }
    }
    const pending = entity.pending;
    const reading: PendingReading<V, M> = { time, value, meta, id, source };
    // In-order arrival is the common case: append. Otherwise insert in the engine's event
    // order, which puts two readings with one timestamp by their identity, not by arrival.
    const last = pending[pending.length - 1];
    if (last === undefined || last.time < time || (last.time === time && comesBefore(last, reading))) {
      pending.push(reading);
    } else {
      let i = pending.length - 1;
      while (i > 0 && !comesBefore(pending[i - 1]!, reading)) i--;
      pending.splice(i, 0, reading);
    }
  }

  /**
   * Applies every pending reading before `boundary` and calls `visit` once per entity
   * with the value carried into the minute and the readings inside it, in time order.
   * Entities whose newest reading is older than the staleness limit are dropped first.
   */
  sample(
    boundary: number,
    visit: (entityId: string, entity: EntityReadings<V, M>, carriedIn: Timed<V> | undefined, inMinute: ReadonlyArray<Timed<V>>) => void,
  ): void {
    const minuteStart = boundary - 60_000;
    const one = this.oneInMinute;
    const empty: Array<Timed<V>> = [];
    for (const [entityId, entity] of this.entities) {
      if (entity.newestTime < boundary - STALE_ENTITY_MS) {
        this.entities.delete(entityId);
        continue;
      }
      const pending = entity.pending;
      if (pending.length > 0 && pending[0]!.time < boundary) {
        let n = 1;
        while (n < pending.length && pending[n]!.time < boundary) n++;
        // Readings before the minute (only after a skipped gap) just set the carried value.
        let carried = entity.current;
        let inMinute: Array<Timed<V>> = empty;
        for (let i = 0; i < n; i++) {
          const r = pending[i]!;
          if (r.meta !== undefined && r.meta !== entity.merged) {
            mergeMetaInto(entity.meta, r.meta);
            entity.merged = r.meta;
          }
          if (r.time < minuteStart) {
            carried = r;
          } else if (inMinute === empty) {
            // `one` is only read during the visit; most minutes have a single reading.
            one[0] = r;
            inMinute = one;
          } else {
            if (inMinute === one) inMinute = [one[0]!];
            inMinute.push(r);
          }
        }
        const last = pending[n - 1]!;
        // A new array rather than `length = 0`, which is a runtime call in V8.
        if (n === pending.length) entity.pending = [];
        else pending.splice(0, n);
        // The reading itself becomes the current one (readings are never changed once added).
        entity.current = last;
        visit(entityId, entity, carried, inMinute);
      } else if (entity.current !== undefined) {
        visit(entityId, entity, entity.current, empty);
      }
    }
  }

  /**
   * A copy that later readings cannot change. Readings are never changed once added (nor
   * their metadata objects, which are only ever merged *from*), so the copy shares them and
   * copies only what an entity changes in place: a checkpoint captures this at once, and
   * cloning every pending reading of a busy stream took seconds.
   */
  snapshot(): ReadingsSnapshot<V, M> {
    return {
      entities: [...this.entities.entries()].map(([k, e]) => {
        const kept: EntityReadings<V, M> = {
          meta: { ...e.meta },
          newestMeta: { ...e.newestMeta },
          newestTime: e.newestTime,
          current: e.current,
          pending: e.pending.slice(),
        };
        if (e.newestId !== undefined) kept.newestId = e.newestId;
        if (e.newestSource !== undefined) kept.newestSource = e.newestSource;
        return [k, kept];
      }),
    };
  }

  restore(s: ReadingsSnapshot<V, M>): void {
    this.entities.clear();
    for (const [k, e] of s.entities) {
      const entity = structuredClone(e);
      // Snapshots from before `newestMeta` existed had one `meta`, following the newest reading.
      if (entity.newestMeta === undefined) entity.newestMeta = { ...entity.meta };
      this.entities.set(k, entity);
    }
  }
}

function comesBefore<V, M>(a: PendingReading<V, M>, b: PendingReading<V, M>): boolean {
  return compareEvents(a.time, a.id ?? '', a.source ?? '', b.time, b.id ?? '', b.source ?? '') < 0;
}

function mergeMetaInto<M extends object>(into: M, from: M): void {
  const target = into as Record<string, unknown>;
  for (const k in from) {
    const v = (from as Record<string, unknown>)[k];
    if (v !== undefined) target[k] = v;
  }
}
