/**
 * The engine's checkpoint as a list of chunks, so that a store can write a large state a
 * piece at a time without holding the event loop (the embedded store writes a few per
 * event-loop turn; a Kafka task can produce each as a message of a compacted topic).
 *
 * Why: the state used to be one JSON string. With ~2 million remembered ids that was a
 * 100 MB string built and written in one step, and every route froze for ~4.7 s. Now the
 * state is *captured* at once — cheaply: the parts copy their plain data, sharing what is
 * never changed once made (readings), and the dedup index copies arrays without touching a
 * string — and *encoded* later, one bounded chunk per `next()`, from that copy, which
 * later ingest cannot change.
 *
 * Format (chunk format 1; the state inside has SNAPSHOT_VERSION's layout):
 *
 *   every chunk   u8 0x48 ('H') · u8 chunk format (1) · u8 kind · u8 0 · u32 LE index · payload
 *   index 0       kind 1, header: UTF-8 JSON {dedup} — the dedup capture's header (its
 *                 sources, its minutes with their key counts, its floor)
 *   then          kind 2, state: UTF-8 JSON text of Engine.snapshot()'s object without
 *                 `dedup`, cut between JSON tokens (never inside a string) into pieces of
 *                 about STATE_CHARS_PER_CHUNK characters; the pieces joined are the text
 *   then          kind 3, dedup keys: pieces of DedupCapture.encode (typed-array bytes),
 *                 DEDUP_KEYS_PER_CHUNK keys each, in the capture's order
 *   last          kind 4, end: UTF-8 JSON {chunks, stateChunks, dedupChunks}
 *
 * Chunks are numbered 0 … n − 1 and must be given back in that order; a reader refuses a
 * list with a chunk missing, repeated, out of order, or without its end.
 */
import type { DedupCapture, DedupCaptureHeader, DedupIndex } from '../time/dedup.js';

export const CHUNK_FORMAT = 1;
const MARK = 0x48;
const KIND_HEADER = 1;
const KIND_STATE = 2;
const KIND_DEDUP = 3;
const KIND_END = 4;
const ENVELOPE = 8;

/** About 0.5 MB of JSON, a millisecond or two of encoding. */
export const STATE_CHARS_PER_CHUNK = 512 * 1024;
/** About 1 MB of ids, a millisecond or two of encoding. */
export const DEDUP_KEYS_PER_CHUNK = 32_768;

/** A state captured at one instant, encoded a chunk at a time. */
export interface EngineCheckpoint {
  /** The next chunk, or undefined after the last; each call does about one chunk's work. */
  next(): Uint8Array | undefined;
}

function envelope(bytes: Uint8Array, kind: number, index: number): Uint8Array {
  bytes[0] = MARK;
  bytes[1] = CHUNK_FORMAT;
  bytes[2] = kind;
  bytes[3] = 0;
  new DataView(bytes.buffer, bytes.byteOffset, ENVELOPE).setUint32(4, index, true);
  return bytes;
}

function textChunk(kind: number, index: number, text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const bytes = new Uint8Array(ENVELOPE + utf8.length);
  bytes.set(utf8, ENVELOPE);
  return envelope(bytes, kind, index);
}

export function encodeCheckpoint(state: Record<string, unknown>, dedup: DedupCapture): EngineCheckpoint {
  const json = new JsonPieces(state);
  let index = 0;
  let stateChunks = 0;
  let dedupFrom = 0;
  let dedupChunks = 0;
  let ended = false;
  return {
    next() {
      if (index === 0) return textChunk(KIND_HEADER, index++, JSON.stringify({ dedup: dedup.header }));
      const text = json.next(STATE_CHARS_PER_CHUNK);
      if (text !== undefined) {
        stateChunks++;
        return textChunk(KIND_STATE, index++, text);
      }
      if (dedupFrom < dedup.size) {
        const to = Math.min(dedupFrom + DEDUP_KEYS_PER_CHUNK, dedup.size);
        const chunk = envelope(dedup.encode(dedupFrom, to, ENVELOPE), KIND_DEDUP, index++);
        dedupFrom = to;
        dedupChunks++;
        return chunk;
      }
      if (ended) return undefined;
      ended = true;
      return textChunk(KIND_END, index, JSON.stringify({ chunks: index + 1, stateChunks, dedupChunks }));
    },
  };
}

/**
 * JSON.stringify's text of a value, given out a piece at a time: a value small enough
 * (at most SMALL nodes) is stringified natively in one call, a larger one is walked
 * with an explicit stack, so that no piece costs more than about `maxChars` of work
 * whatever the shape — a long list of entities, one entity with a long list of readings.
 * Same text as JSON.stringify for the plain data a snapshot is (no toJSON, no cycles).
 * Exported for its test.
 */
export class JsonPieces {
  private readonly stack: Frame[] = [];
  private started = false;
  private readonly root: unknown;

  constructor(root: unknown) {
    this.root = root;
  }

  next(maxChars: number): string | undefined {
    const out: string[] = [];
    let length = 0;
    const emit = (s: string) => {
      out.push(s);
      length += s.length;
    };
    if (!this.started) {
      this.started = true;
      this.value(this.root, emit, false);
    }
    while (this.stack.length > 0 && length < maxChars) {
      const frame = this.stack[this.stack.length - 1]!;
      if (frame.kind === 'array') {
        if (frame.i < frame.items.length) {
          if (frame.i > 0) emit(',');
          this.value(frame.items[frame.i++], emit, true);
        } else {
          emit(']');
          this.stack.pop();
        }
      } else {
        let wrote = false;
        while (frame.i < frame.keys.length && !wrote) {
          const key = frame.keys[frame.i++]!;
          const v = frame.object[key];
          if (!isSerialisable(v)) continue;
          emit(`${frame.any ? ',' : ''}${JSON.stringify(key)}:`);
          frame.any = true;
          this.value(v, emit, false);
          wrote = true;
        }
        if (!wrote) {
          emit('}');
          this.stack.pop();
        }
      }
    }
    return out.length === 0 ? undefined : out.join('');
  }

  private value(v: unknown, emit: (s: string) => void, inArray: boolean): void {
    if (!isSerialisable(v)) {
      emit(inArray ? 'null' : '');
      return;
    }
    if (v === null || typeof v !== 'object' || isSmall(v)) {
      emit(JSON.stringify(v));
    } else if (Array.isArray(v)) {
      emit('[');
      this.stack.push({ kind: 'array', items: v, i: 0 });
    } else {
      emit('{');
      this.stack.push({ kind: 'object', object: v as Record<string, unknown>, keys: Object.keys(v), i: 0, any: false });
    }
  }
}

type Frame = { kind: 'array'; items: readonly unknown[]; i: number } | { kind: 'object'; object: Record<string, unknown>; keys: string[]; i: number; any: boolean };

/** What JSON.stringify writes for a property (it leaves out undefined, functions, symbols). */
function isSerialisable(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

const SMALL = 64;

/** Whether a value has at most SMALL objects, arrays and values in all. */
function isSmall(root: object): boolean {
  let budget = SMALL;
  const visit = (v: unknown): boolean => {
    if (--budget < 0) return false;
    if (v === null || typeof v !== 'object') return true;
    if (Array.isArray(v)) {
      if (v.length > budget) return false;
      for (const x of v) if (!visit(x)) return false;
      return true;
    }
    for (const key in v) if (!visit((v as Record<string, unknown>)[key])) return false;
    return true;
  };
  return visit(root);
}

export class SnapshotFormatError extends Error {}

function readEnvelope(chunk: Uint8Array, expected: number): number {
  if (chunk.length < ENVELOPE || chunk[0] !== MARK) throw new SnapshotFormatError(`chunk ${expected} is not an engine snapshot chunk`);
  if (chunk[1] !== CHUNK_FORMAT) throw new SnapshotFormatError(`engine snapshot chunk format ${chunk[1]} is not ${CHUNK_FORMAT}`);
  const index = new DataView(chunk.buffer, chunk.byteOffset, ENVELOPE).getUint32(4, true);
  if (index !== expected) throw new SnapshotFormatError(`engine snapshot chunk ${expected} missing (got chunk ${index})`);
  return chunk[2]!;
}

function readJson(chunk: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(chunk.subarray(ENVELOPE)));
}

export interface DecodedCheckpoint {
  state: Record<string, unknown>;
  restoreDedup: (index: DedupIndex) => void;
}

/** Reads chunks written by `encodeCheckpoint`: the state object (dedup aside) and its dedup restorer. */
export function decodeCheckpoint(chunks: Iterable<Uint8Array>): DecodedCheckpoint {
  let index = 0;
  let header: { dedup: DedupCaptureHeader } | undefined;
  const stateParts: Uint8Array[] = [];
  const dedupPieces: Uint8Array[] = [];
  let end: { chunks: number; stateChunks: number; dedupChunks: number } | undefined;
  // Header, then state text, then dedup keys, then the end: each kind only in its place.
  let phase = KIND_HEADER;
  for (const chunk of chunks) {
    if (end !== undefined) throw new SnapshotFormatError(`engine snapshot has more than its ${end.chunks} chunks`);
    const kind = readEnvelope(chunk, index);
    if (index === 0 ? kind !== KIND_HEADER : kind < phase || kind === KIND_HEADER || kind > KIND_END) {
      throw new SnapshotFormatError(`engine snapshot chunk ${index} is out of order`);
    }
    phase = kind;
    if (kind === KIND_HEADER) header = readJson(chunk) as { dedup: DedupCaptureHeader };
    else if (kind === KIND_STATE) stateParts.push(chunk.subarray(ENVELOPE));
    else if (kind === KIND_DEDUP) dedupPieces.push(chunk.subarray(ENVELOPE));
    else end = readJson(chunk) as typeof end;
    index++;
  }
  if (header === undefined) throw new SnapshotFormatError('engine snapshot has no chunks');
  if (end === undefined) throw new SnapshotFormatError(`engine snapshot ends at chunk ${index} without its end`);
  if (end.chunks !== index || end.stateChunks !== stateParts.length || end.dedupChunks !== dedupPieces.length) {
    throw new SnapshotFormatError(`engine snapshot has ${index} chunks, its end says ${end.chunks}`);
  }
  const bytes = new Uint8Array(stateParts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of stateParts) {
    bytes.set(p, at);
    at += p.length;
  }
  const state = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  const dedup = header.dedup;
  return { state, restoreDedup: (d) => d.restoreEncoded(dedup, dedupPieces) };
}
