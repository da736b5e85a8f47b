/**
 * Duplicate detection by (`source`, `id`), as CloudEvents defines identity.
 *
 * Memory is bounded by event time: keys are kept in per-minute buckets and a bucket is
 * dropped once it is older than the watermark minus the retention. An event older than
 * that is late anyway, so forgetting its key cannot let a duplicate be counted twice;
 * it only changes the reason it is refused from `duplicate` to `late`.
 *
 * Ids are held per source (a map of sets) rather than as one joined string: a joined key
 * is a new string per event whose hash must be computed afresh, which was the index's
 * main cost; a source string is hashed once and its set looked up by identity.
 */

const MINUTE = 60_000;

export interface DedupSnapshot {
  /** Per minute, the keys `source + "\0" + id` (the format `DedupIndex.key` makes). */
  buckets: Array<[number, string[]]>;
}

export class DedupIndex {
  private readonly bySource = new Map<string, Set<string>>();
  /** Per minute, sources and ids alternating: source, id, source, id… */
  private readonly buckets = new Map<number, string[]>();
  private oldestBucket = Number.POSITIVE_INFINITY;
  private count = 0;
  /** The last source looked up, and its set: consecutive events mostly share a source. */
  private lastSource: string | undefined;
  private lastSet: Set<string> | undefined;
  /** The minute last added to, and its keys: consecutive events mostly share a minute. */
  private lastBucket = Number.NaN;
  private lastKeys: string[] | undefined;

  constructor(private readonly retentionMs: number) {}

  static key(source: string, id: string): string {
    return `${source}\u0000${id}`;
  }

  get size(): number {
    return this.count;
  }

  private setOf(source: string): Set<string> | undefined {
    if (source === this.lastSource) return this.lastSet;
    const set = this.bySource.get(source);
    if (set !== undefined) {
      this.lastSource = source;
      this.lastSet = set;
    }
    return set;
  }

  has(source: string, id: string): boolean {
    const set = this.setOf(source);
    return set !== undefined && set.has(id);
  }

  /** Records a key; `has` must have said it is not there (restore checks for itself). */
  add(source: string, id: string, eventTime: number): void {
    let set = this.setOf(source);
    if (set === undefined) {
      set = new Set();
      this.bySource.set(source, set);
      this.lastSource = source;
      this.lastSet = set;
    }
    set.add(id);
    this.count++;
    const bucket = Math.floor(eventTime / MINUTE) * MINUTE;
    let keys: string[] | undefined;
    if (bucket === this.lastBucket) {
      keys = this.lastKeys!;
    } else {
      keys = this.buckets.get(bucket);
      if (keys === undefined) {
        keys = [];
        this.buckets.set(bucket, keys);
        if (bucket < this.oldestBucket) this.oldestBucket = bucket;
      }
      this.lastBucket = bucket;
      this.lastKeys = keys;
    }
    keys.push(source, id);
  }

  /** Forgets keys of minutes wholly older than `watermark - retention`. */
  prune(watermark: number): void {
    const horizon = watermark - this.retentionMs;
    if (!(this.oldestBucket + MINUTE <= horizon)) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [bucket, keys] of this.buckets) {
      if (bucket + MINUTE <= horizon) {
        for (let i = 0; i < keys.length; i += 2) this.forget(keys[i]!, keys[i + 1]!);
        this.buckets.delete(bucket);
        if (bucket === this.lastBucket) {
          this.lastBucket = Number.NaN;
          this.lastKeys = undefined;
        }
      } else if (bucket < oldest) {
        oldest = bucket;
      }
    }
    this.oldestBucket = oldest;
  }

  private forget(source: string, id: string): void {
    const set = this.bySource.get(source);
    if (set === undefined || !set.delete(id)) return;
    this.count--;
    if (set.size === 0) {
      this.bySource.delete(source);
      if (this.lastSet === set) {
        this.lastSource = undefined;
        this.lastSet = undefined;
      }
    }
  }

  snapshot(): DedupSnapshot {
    const buckets: Array<[number, string[]]> = [];
    for (const [bucket, keys] of this.buckets) {
      const joined: string[] = [];
      for (let i = 0; i < keys.length; i += 2) joined.push(DedupIndex.key(keys[i]!, keys[i + 1]!));
      buckets.push([bucket, joined]);
    }
    return { buckets };
  }

  restore(s: DedupSnapshot): void {
    this.bySource.clear();
    this.buckets.clear();
    this.count = 0;
    this.lastSource = undefined;
    this.lastSet = undefined;
    this.lastBucket = Number.NaN;
    this.lastKeys = undefined;
    this.oldestBucket = Number.POSITIVE_INFINITY;
    for (const [bucket, keys] of s.buckets) {
      for (const key of keys) {
        const cut = key.indexOf('\u0000');
        // A key always has the separator; one without it cannot be an event's and is skipped.
        if (cut < 0) continue;
        if (this.has(key.slice(0, cut), key.slice(cut + 1))) continue;
        this.add(key.slice(0, cut), key.slice(cut + 1), bucket);
      }
    }
  }
}
