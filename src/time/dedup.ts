/**
 * Duplicate detection by (`source`, `id`), as CloudEvents defines identity.
 *
 * Memory is bounded twice. By event time: keys are kept in per-minute buckets and a
 * bucket is dropped once it is older than the watermark minus the retention. An event
 * older than that is late anyway, so forgetting its key cannot let a duplicate be counted
 * twice; it only changes the reason it is refused from `duplicate` to `late`.
 *
 * And by size, because event time alone let memory grow with the rate: one producer
 * sending two million events within a few minutes of event time took the process to
 * 881 MB. Past `maxBytes` (an estimate, see ENTRY_BYTES) the oldest minute is forgotten
 * first, and the `floor` rises past it: the engine refuses an event older than the floor
 * as late, exactly as if the watermark had passed it. So at the bound the index still
 * never lets a forgotten id be counted twice — what it costs is that events of the
 * forgotten minutes are refused, which only happens once the minutes the watermark has not
 * passed hold more than the bound; older minutes only ever change a `duplicate` to `late`.
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

/**
 * Estimated bytes an entry holds beyond its id's characters, for the size bound: its
 * source number and hash (8, up to 16 with the typed arrays' growth slack), 2–8 table
 * slots of 4 (the table is rehashed to a quarter full and grows at half full), its place
 * in `ids` and in its minute's list (8 each, up to 12 with slack), and the id string's
 * header (16). Its characters count 2 bytes each (V8 keeps ASCII ids in 1). Measured:
 * 2 million 20-character ids took ~110 bytes each against the 120 estimated.
 */
export const ENTRY_BYTES = 80;

function entryBytes(id: string): number {
  return ENTRY_BYTES + 2 * id.length;
}

export interface DedupSnapshot {
  /** Per minute, the keys `source + "\0" + id` (the format `DedupIndex.key` makes). */
  buckets: Array<[number, string[]]>;
  /** See DedupIndex.floor; null for none (and absent from snapshots before the size bound). */
  floor?: number | null;
  evicted?: number;
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

  private estimatedBytes = 0;
  private floorTime = Number.NEGATIVE_INFINITY;
  private evictedCount = 0;

  /**
   * `seed`: varies the id hash (see EngineConfig.dedupHashSeed); answers never depend on it.
   * `maxBytes`: the size bound (estimated, see ENTRY_BYTES).
   */
  constructor(
    private readonly retentionMs: number,
    private readonly seed = 0,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  static key(source: string, id: string): string {
    return `${source}\u0000${id}`;
  }

  get size(): number {
    return this.count;
  }

  /** Estimated bytes the remembered keys hold (what `maxBytes` bounds). */
  get bytes(): number {
    return this.estimatedBytes;
  }

  /**
   * Events before this instant may have had their keys forgotten at the size bound, so the
   * engine refuses them as late; -Infinity until the bound was first reached.
   */
  get floor(): number {
    return this.floorTime;
  }

  /** Keys forgotten early because of the size bound, since the index began. */
  get evicted(): number {
    return this.evictedCount;
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
    this.estimatedBytes += entryBytes(id);
    while (this.estimatedBytes > this.maxBytes && this.buckets.size > 0) this.evictOldestMinute();
  }

  /** At the size bound: forgets the oldest minute, and refuses its events from now on (see the floor). */
  private evictOldestMinute(): void {
    const bucket = this.oldestBucket;
    const entries = this.buckets.get(bucket)!;
    for (const e of entries) this.forget(e);
    this.evictedCount += entries.length;
    this.dropBucket(bucket);
    if (bucket + MINUTE > this.floorTime) this.floorTime = bucket + MINUTE;
    let oldest = Number.POSITIVE_INFINITY;
    for (const b of this.buckets.keys()) if (b < oldest) oldest = b;
    this.oldestBucket = oldest;
  }

  private dropBucket(bucket: number): void {
    this.buckets.delete(bucket);
    if (bucket === this.lastBucket) {
      this.lastBucket = Number.NaN;
      this.lastEntries = undefined;
    }
  }

  /** Forgets keys of minutes wholly older than `watermark - retention`. */
  prune(watermark: number): void {
    const horizon = watermark - this.retentionMs;
    if (!(this.oldestBucket + MINUTE <= horizon)) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [bucket, entries] of this.buckets) {
      if (bucket + MINUTE <= horizon) {
        for (const e of entries) this.forget(e);
        this.dropBucket(bucket);
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
    this.estimatedBytes -= entryBytes(this.ids[e]!);
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
    return { buckets, floor: Number.isFinite(this.floorTime) ? this.floorTime : null, evicted: this.evictedCount };
  }

  restore(s: DedupSnapshot): void {
    this.reset(s.floor, s.evicted);
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

  private reset(floor: number | null | undefined, evicted: number | undefined): void {
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
    this.estimatedBytes = 0;
    this.floorTime = floor ?? Number.NEGATIVE_INFINITY;
    this.evictedCount = evicted ?? 0;
  }

  /**
   * A copy of the keys, taken at once and cheaply — array and typed-array copies, which V8
   * makes natively, and no string work — that later ingest cannot change;
   * `DedupCapture.encode` turns it into bytes piece by piece. Minutes in ascending order,
   * each minute's keys in the order they were added.
   */
  capture(): DedupCapture {
    const minutes = [...this.buckets.keys()].sort((a, b) => a - b);
    const lists = minutes.map((m) => this.buckets.get(m)!.slice());
    return new DedupCapture(
      {
        sources: [...this.sources],
        minutes: minutes.map((m, i) => [m, lists[i]!.length]),
        floor: Number.isFinite(this.floorTime) ? this.floorTime : null,
        evicted: this.evictedCount,
      },
      lists,
      this.ids.slice(),
      this.entrySource.slice(0, this.ids.length),
    );
  }

  /** Rebuilds the index from a capture's header and its encoded pieces, in order. */
  restoreEncoded(header: DedupCaptureHeader, pieces: Iterable<Uint8Array>): void {
    this.reset(header.floor, header.evicted);
    let minute = 0;
    let leftInMinute = header.minutes[0]?.[1] ?? 0;
    for (const piece of pieces) {
      const { sourceOf, ids } = decodePiece(piece);
      for (let i = 0; i < ids.length; i++) {
        while (leftInMinute === 0) leftInMinute = header.minutes[++minute]![1];
        leftInMinute--;
        const source = header.sources[sourceOf[i]!]!;
        if (!this.has(source, ids[i]!)) this.add(source, ids[i]!, header.minutes[minute]![0]);
      }
    }
  }
}

/** What a capture says besides its keys (JSON). */
export interface DedupCaptureHeader {
  sources: string[];
  /** [minute start, how many keys], ascending. */
  minutes: Array<[number, number]>;
  floor: number | null;
  evicted: number;
}

const NON_ASCII = /[^\u0000-\u007f]/;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Keys captured by `DedupIndex.capture`, encoded a piece at a time. A piece holds keys
 * [from, to) of the capture order:
 *
 *   u32 n · u32 width (1 or 2) · i32 source number × n · u32 id length × n · the ids' code
 *   units back to back, 1 byte each when every one is ASCII, else 2 (UTF-16, lone
 *   surrogates kept) — little-endian, typed-array bytes, `reserve` bytes left free in front.
 */
export class DedupCapture {
  readonly size: number;
  /** Where each minute's list starts in the capture order. */
  private readonly starts: number[] = [];

  constructor(
    readonly header: DedupCaptureHeader,
    private readonly lists: readonly number[][],
    private readonly ids: ReadonlyArray<string | undefined>,
    private readonly sourceOf: Int32Array,
  ) {
    let n = 0;
    for (const list of lists) {
      this.starts.push(n);
      n += list.length;
    }
    this.size = n;
  }

  /** The entry numbers of capture positions [from, to). */
  private entries(from: number, to: number): Int32Array {
    const out = new Int32Array(to - from);
    // The minute holding `from`: the last start at or before it.
    let m = 0;
    while (m + 1 < this.starts.length && this.starts[m + 1]! <= from) m++;
    let k = 0;
    for (let pos = from; pos < to; m++) {
      const list = this.lists[m]!;
      const offset = pos - this.starts[m]!;
      const take = Math.min(list.length - offset, to - pos);
      for (let i = 0; i < take; i++) out[k++] = list[offset + i]!;
      pos += take;
    }
    return out;
  }

  encode(from: number, to: number, reserve: number): Uint8Array {
    if (!LITTLE_ENDIAN) throw new Error('engine snapshots are written little-endian; this machine is not');
    const entries = this.entries(from, to);
    const n = entries.length;
    const ids: string[] = new Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.ids[entries[i]!]!;
    // One joined string: its ASCII test and its encoding are then each one native call.
    const text = ids.join('');
    const width = NON_ASCII.test(text) ? 2 : 1;
    const at = align4(reserve);
    const bytes = new Uint8Array(at + 8 + 8 * n + width * text.length);
    const words = new Uint32Array(bytes.buffer, at, 2 + 2 * n);
    words[0] = n;
    words[1] = width;
    const sources = new Int32Array(bytes.buffer, at + 8, n);
    const lengths = words.subarray(2 + n);
    for (let i = 0; i < n; i++) {
      sources[i] = this.sourceOf[entries[i]!]!;
      lengths[i] = ids[i]!.length;
    }
    const charsAt = at + 8 + 8 * n;
    if (width === 1) {
      new TextEncoder().encodeInto(text, bytes.subarray(charsAt));
    } else {
      const units = new Uint16Array(bytes.buffer, charsAt, text.length);
      for (let c = 0; c < text.length; c++) units[c] = text.charCodeAt(c);
    }
    return reserve === at ? bytes : bytes.subarray(at - reserve);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The inverse of DedupCapture.encode, given the piece without its reserved front. */
function decodePiece(piece: Uint8Array): { sourceOf: Int32Array; ids: string[] } {
  // A copy at offset 0, so the typed-array views are aligned whatever buffer the piece came
  // in (a Buffer's `slice` would be a view into its pool, hence the constructor).
  const buffer = new Uint8Array(piece).buffer;
  const [n, width] = new Uint32Array(buffer, 0, 2) as unknown as [number, number];
  const sourceOf = new Int32Array(buffer, 8, n);
  const lengths = new Uint32Array(buffer, 8 + 4 * n, n);
  const charsAt = 8 + 8 * n;
  let text: string;
  if (width === 1) {
    text = new TextDecoder().decode(new Uint8Array(buffer, charsAt));
  } else {
    const units = new Uint16Array(buffer, charsAt, (buffer.byteLength - charsAt) / 2);
    const parts: string[] = [];
    for (let i = 0; i < units.length; i += 8192) parts.push(String.fromCharCode(...units.subarray(i, i + 8192)));
    text = parts.join('');
  }
  const ids: string[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = text.slice(at, at + lengths[i]!);
    at += lengths[i]!;
  }
  return { sourceOf, ids };
}
