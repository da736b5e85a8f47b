/**
 * Duplicate detection by (`source`, `id`), as CloudEvents defines identity.
 *
 * Memory is bounded by event time: keys are kept in per-minute buckets and a bucket is
 * dropped once it is older than the watermark minus the retention. An event older than
 * that is late anyway, so forgetting its key cannot let a duplicate be counted twice;
 * it only changes the reason it is refused from `duplicate` to `late`.
 */

const MINUTE = 60_000;

export interface DedupSnapshot {
  buckets: Array<[number, string[]]>;
}

export class DedupIndex {
  private readonly seen = new Set<string>();
  private readonly buckets = new Map<number, string[]>();
  private oldestBucket = Number.POSITIVE_INFINITY;

  constructor(private readonly retentionMs: number) {}

  static key(source: string, id: string): string {
    return `${source}\u0000${id}`;
  }

  get size(): number {
    return this.seen.size;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  add(key: string, eventTime: number): void {
    this.seen.add(key);
    const bucket = Math.floor(eventTime / MINUTE) * MINUTE;
    let keys = this.buckets.get(bucket);
    if (keys === undefined) {
      keys = [];
      this.buckets.set(bucket, keys);
      if (bucket < this.oldestBucket) this.oldestBucket = bucket;
    }
    keys.push(key);
  }

  /** Forgets keys of minutes wholly older than `watermark - retention`. */
  prune(watermark: number): void {
    const horizon = watermark - this.retentionMs;
    if (!(this.oldestBucket + MINUTE <= horizon)) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [bucket, keys] of this.buckets) {
      if (bucket + MINUTE <= horizon) {
        for (const k of keys) this.seen.delete(k);
        this.buckets.delete(bucket);
      } else if (bucket < oldest) {
        oldest = bucket;
      }
    }
    this.oldestBucket = oldest;
  }

  snapshot(): DedupSnapshot {
    return { buckets: [...this.buckets.entries()].map(([b, keys]) => [b, [...keys]]) };
  }

  restore(s: DedupSnapshot): void {
    this.seen.clear();
    this.buckets.clear();
    this.oldestBucket = Number.POSITIVE_INFINITY;
    for (const [bucket, keys] of s.buckets) {
      this.buckets.set(bucket, [...keys]);
      for (const k of keys) this.seen.add(k);
      if (bucket < this.oldestBucket) this.oldestBucket = bucket;
    }
  }
}
