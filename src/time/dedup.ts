/**
 * Duplicate detection by (`source`, `id`), as CloudEvents defines identity.
 *
 * Memory is bounded by event time: keys are kept in per-minute buckets and a bucket is
 * dropped once it is older than the watermark minus the retention. An event older than
 * that is late anyway, so forgetting its key cannot let a duplicate be counted twice;
 * it only changes the reason it is refused from `duplicate` to `late`.
 *
 * The index is an open-addressing hash table over typed arrays rather than a `Set` of
 * joined keys: every event is looked up, added and later forgotten, and with a `Set` the
 * joined key was a new string per event, hashed by V8 and then kept in a hash table whose
 * entries are spread across the heap — the engine's largest cost after JSON.parse. Here
 * a source becomes a small number once, the id is hashed once (FNV-1a over its UTF-16
 * code units), and a lookup compares stored hashes before it compares any string.
 */

const MINUTE = 60_000;
const EMPTY = 0;
const TOMBSTONE = -1;
const INITIAL_ENTRIES = 1024;
const INITIAL_SLOTS = 4096; // a power of two: a slot is `hash & (length - 1)`

export interface DedupSnapshot {
  /** Per minute, the keys `source + "\0" + id` (the format `DedupIndex.key` makes). */
  buckets: Array<[number, string[]]>;
}

function hashId(id: string, sourceNumber: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed ^ Math.imul(sourceNumber, 0x9e3779b1)) | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h;
}

export class DedupIndex {
  /** Source → its number; numbers of sources no longer used are not reused (a source is a few bytes). */
  private readonly sourceNumbers = new Map<string, number>();
  private readonly sources: string[] = [];
  private lastSource: string | undefined;
  private lastSourceNumber = -1;

  // Entries, by entry number: the id, its source number and hash. Freed numbers are reused.
  private ids: Array<string | undefined> = [];
  private entrySource = new Int32Array(INITIAL_ENTRIES);
  private entryHash = new Int32Array(INITIAL_ENTRIES);
  private readonly freeEntries: number[] = [];

  /** Open-addressing table: entry number + 1, EMPTY, or TOMBSTONE; linear probing. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private used = 0; // live entries + tombstones in `slots`
  private count = 0;

  /** Per minute, the entry numbers added in it. */
  private readonly buckets = new Map<number, number[]>();
  private oldestBucket = Number.POSITIVE_INFINITY;
  private lastBucket = Number.NaN;
  private lastEntries: number[] | undefined;

  /** `seed`: varies the id hash (see EngineConfig.dedupHashSeed); answers never depend on it. */
  constructor(
    private readonly retentionMs: number,
    private readonly seed = 0,
  ) {}

  static key(source: string, id: string): string {
    return `${source}\u0000${id}`;
  }

  get size(): number {
    return this.count;
  }

  private sourceNumber(source: string, create: boolean): number {
    if (source === this.lastSource) return this.lastSourceNumber;
    let n = this.sourceNumbers.get(source);
    if (n === undefined) {
      if (!create) return -1;
      n = this.sources.length;
      this.sources.push(source);
      this.sourceNumbers.set(source, n);
    }
    this.lastSource = source;
    this.lastSourceNumber = n;
    return n;
  }

  /** The slot holding (source, id), or -1. */
  private find(sourceNumber: number, id: string, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return -1;
      if (s !== TOMBSTONE) {
        const e = s - 1;
        if (this.entryHash[e] === hash && this.entrySource[e] === sourceNumber && this.ids[e] === id) return i;
      }
    }
  }

  has(source: string, id: string): boolean {
    const n = this.sourceNumber(source, false);
    if (n < 0) return false;
    return this.find(n, id, hashId(id, n, this.seed)) >= 0;
  }

  /** Records a key; `has` must have said it is not there (restore checks for itself). */
  add(source: string, id: string, eventTime: number): void {
    const n = this.sourceNumber(source, true);
    const hash = hashId(id, n, this.seed);
    if ((this.used + 1) * 2 > this.slots.length) this.rehash();
    let e = this.freeEntries.pop();
    if (e === undefined) {
      e = this.ids.length;
      this.ids.push(undefined);
      if (e >= this.entryHash.length) this.growEntries();
    }
    this.ids[e] = id;
    this.entrySource[e] = n;
    this.entryHash[e] = hash;
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = hash & mask;
    while (slots[i] !== EMPTY && slots[i] !== TOMBSTONE) i = (i + 1) & mask;
    if (slots[i] === EMPTY) this.used++;
    slots[i] = e + 1;
    this.count++;

    const bucket = Math.floor(eventTime / MINUTE) * MINUTE;
    let entries: number[] | undefined;
    if (bucket === this.lastBucket) {
      entries = this.lastEntries!;
    } else {
      entries = this.buckets.get(bucket);
      if (entries === undefined) {
        entries = [];
        this.buckets.set(bucket, entries);
        if (bucket < this.oldestBucket) this.oldestBucket = bucket;
      }
      this.lastBucket = bucket;
      this.lastEntries = entries;
    }
    entries.push(e);
  }

  /** Forgets keys of minutes wholly older than `watermark - retention`. */
  prune(watermark: number): void {
    const horizon = watermark - this.retentionMs;
    if (!(this.oldestBucket + MINUTE <= horizon)) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [bucket, entries] of this.buckets) {
      if (bucket + MINUTE <= horizon) {
        for (const e of entries) this.forget(e);
        this.buckets.delete(bucket);
        if (bucket === this.lastBucket) {
          this.lastBucket = Number.NaN;
          this.lastEntries = undefined;
        }
      } else if (bucket < oldest) {
        oldest = bucket;
      }
    }
    this.oldestBucket = oldest;
  }

  private forget(e: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = this.entryHash[e]! & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === EMPTY) return; // not there (cannot happen: every entry is in the table once)
      if (s === e + 1) {
        slots[i] = TOMBSTONE;
        break;
      }
    }
    this.ids[e] = undefined;
    this.freeEntries.push(e);
    this.count--;
  }

  /** A table twice the live entries' need, without tombstones. */
  private rehash(): void {
    let capacity = this.slots.length;
    while ((this.count + 1) * 4 > capacity) capacity *= 2;
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    for (const s of this.slots) {
      if (s === EMPTY || s === TOMBSTONE) continue;
      let i = this.entryHash[s - 1]! & mask;
      while (slots[i] !== EMPTY) i = (i + 1) & mask;
      slots[i] = s;
    }
    this.slots = slots;
    this.used = this.count;
  }

  private growEntries(): void {
    const size = this.entryHash.length * 2;
    const hashes = new Int32Array(size);
    hashes.set(this.entryHash);
    const sources = new Int32Array(size);
    sources.set(this.entrySource);
    this.entryHash = hashes;
    this.entrySource = sources;
  }

  snapshot(): DedupSnapshot {
    const buckets: Array<[number, string[]]> = [];
    for (const [bucket, entries] of this.buckets) {
      buckets.push([bucket, entries.map((e) => DedupIndex.key(this.sources[this.entrySource[e]!]!, this.ids[e]!))]);
    }
    return { buckets };
  }

  restore(s: DedupSnapshot): void {
    this.sourceNumbers.clear();
    this.sources.length = 0;
    this.lastSource = undefined;
    this.lastSourceNumber = -1;
    this.ids = [];
    this.entrySource = new Int32Array(INITIAL_ENTRIES);
    this.entryHash = new Int32Array(INITIAL_ENTRIES);
    this.freeEntries.length = 0;
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.used = 0;
    this.count = 0;
    this.buckets.clear();
    this.oldestBucket = Number.POSITIVE_INFINITY;
    this.lastBucket = Number.NaN;
    this.lastEntries = undefined;
    for (const [bucket, keys] of s.buckets) {
      for (const key of keys) {
        const cut = key.indexOf('\u0000');
        // A key always has the separator; one without it cannot be an event's and is skipped.
        if (cut < 0) continue;
        const source = key.slice(0, cut);
        const id = key.slice(cut + 1);
        if (!this.has(source, id)) this.add(source, id, bucket);
      }
    }
  }
}
