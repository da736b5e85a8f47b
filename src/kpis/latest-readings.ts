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

export interface Timed<V> {
  time: number;
  value: V;
}

interface PendingReading<V, M> extends Timed<V> {
  /** The reading's metadata (district, name…), merged into `meta` when it is applied. */
  meta?: M;
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
  /** Latest reading applied at the last sample, if any. */
  current: Timed<V> | undefined;
  pending: Array<PendingReading<V, M>>;
  /**
   * What the gauge keeps with the entity between samples (its KPI series, its last
   * fields): derived, so not part of a snapshot, and gone with the entity.
   */
  gauge?: unknown;
}

export interface ReadingsSnapshot<V, M> {
  entities: Array<[string, EntityReadings<V, M>]>;
}

export class LatestReadings<V, M extends object> {
  readonly entities = new Map<string, EntityReadings<V, M>>();
  private readonly inMinute: Array<Timed<V>> = [];

  /**
   * Adds a reading with its metadata; fields the reading leaves undefined keep their
   * previous value. `newestMeta` follows the newest reading at once, `meta` only as the
   * readings are sampled, in event-time order.
   */
  add(entityId: string, time: number, value: V, meta: M): void {
    let entity = this.entities.get(entityId);
    if (entity === undefined) {
      // `meta` starts empty and is filled by the first sample that applies a reading.
      entity = { meta: {} as M, newestMeta: { ...meta }, newestTime: time, current: undefined, pending: [{ time, value, meta }] };
      this.entities.set(entityId, entity);
      return;
    }
    if (time >= entity.newestTime) {
      entity.newestTime = time;
      mergeMetaInto(entity.newestMeta, meta);
    }
    const pending = entity.pending;
    // In-order arrival is the common case: append. Otherwise insert after equal times,
    // so two readings with one timestamp keep their arrival order.
    if (pending.length === 0 || pending[pending.length - 1]!.time <= time) {
      pending.push({ time, value, meta });
    } else {
      let i = pending.length - 1;
      while (i > 0 && pending[i - 1]!.time > time) i--;
      pending.splice(i, 0, { time, value, meta });
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
    // `inMinute` is only read during the visit, so one array serves every entity: a
    // sample visits every entity every minute, and most have one reading or none.
    const inMinute = this.inMinute;
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
        inMinute.length = 0;
        for (let i = 0; i < n; i++) {
          const r = pending[i]!;
          if (r.meta !== undefined) mergeMetaInto(entity.meta, r.meta);
          if (r.time < minuteStart) carried = r;
          else inMinute.push(r);
        }
        const last = pending[n - 1]!;
        if (n === pending.length) pending.length = 0;
        else pending.splice(0, n);
        // The reading itself becomes the current one (readings are never changed once added).
        entity.current = last;
        visit(entityId, entity, carried, inMinute);
        inMinute.length = 0;
      } else if (entity.current !== undefined) {
        visit(entityId, entity, entity.current, empty);
      }
    }
  }

  snapshot(): ReadingsSnapshot<V, M> {
    return {
      entities: [...this.entities.entries()].map(([k, e]) => {
        const { gauge: _derived, ...kept } = e;
        return [k, structuredClone(kept)];
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

function mergeMetaInto<M extends object>(into: M, from: M): void {
  const target = into as Record<string, unknown>;
  for (const k in from) {
    const v = (from as Record<string, unknown>)[k];
    if (v !== undefined) target[k] = v;
  }
}
