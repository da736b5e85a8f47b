/**
 * Chunked checkpoints (src/engine/snapshot-chunks.ts): the chunks of `checkpoint()` rebuild
 * an engine that continues exactly as the uninterrupted one; they hold the state of the
 * instant of capture whatever the engine does while they are encoded; a large state is cut
 * into bounded chunks whatever its shape; and a list with a chunk missing or out of order
 * is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { DEDUP_KEYS_PER_CHUNK, JsonPieces, SnapshotFormatError, STATE_CHARS_PER_CHUNK } from '../../src/engine/snapshot-chunks.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import { core, HLG, TTYN } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';
import { runs } from '../helpers/property-runs.js';

function chunksOf(engine: Engine): Uint8Array[] {
  const cp = engine.checkpoint();
  const chunks: Uint8Array[] = [];
  for (let c = cp.next(); c !== undefined; c = cp.next()) chunks.push(c);
  return chunks;
}

/** A stream with many entities (so parts spill into item chunks) and ids of every kind of text. */
function busyStream(): HuitianEvent[] {
  const events: HuitianEvent[] = [];
  const ids = ['plain', '回龙观-点位', 'emoji-😀', 'lone-\ud800-surrogate', ''];
  for (let i = 0; i < 3000; i++) {
    const s = Math.floor(i / 10);
    const id = `${ids[i % 5]}-${i}`;
    events.push(core.depth(s, `P${i % 1500}`, (i * 7) % 45, { district: i % 2 ? HLG : TTYN }, { id }));
    if (i % 3 === 0) events.push(core.lot(s, `L${i % 1200}`, (i * 13) % 100, 100));
    if (i % 50 === 0) events.push(core.received(s, `F${i}`, 'fire', HLG));
  }
  return events;
}

describe('engine checkpoint chunks', () => {
  it('rebuild an engine that continues exactly as the uninterrupted one', () => {
    const events = busyStream();
    const cut = 2200;
    const whole = new EngineRun();
    whole.stream(events);
    whole.watermarkTo(3600);
    const first = new EngineRun();
    first.stream(events.slice(0, cut));
    const chunks = chunksOf(first.engine);
    expect(chunks.length).toBeGreaterThan(3);
    const resumed = new EngineRun();
    resumed.engine = Engine.restoreChunks(resumed.config, chunks);
    expect(resumed.engine.snapshot()).toEqual(first.engine.snapshot());
    resumed.stream(events.slice(cut));
    resumed.watermarkTo(3600);
    expect([...first.rows, ...resumed.rows]).toEqual(whole.rows);
    expect([...first.changes, ...resumed.changes]).toEqual(whole.changes);
    expect(resumed.engine.stats()).toEqual(whole.engine.stats());
    // Repeats are still told, whatever characters their ids have.
    expect(resumed.engine.ingest(events.slice(0, 20), 'c', 0).outcomes.every((o) => o === 'duplicate' || o === 'late')).toBe(true);
  });

  it('hold the state of the instant of capture, though the engine goes on before they are encoded', () => {
    const events = busyStream();
    const run = new EngineRun();
    run.stream(events.slice(0, 1500));
    const expected = run.engine.snapshot();
    const cp = run.engine.checkpoint();
    run.stream(events.slice(1500));
    // Far on in event time: the dedup keys the capture holds are pruned, entities replaced.
    run.engine.ingest([core.depth(3600, 'P1', 44, {}, { id: 'far-on' })], 'c', 0, true);
    expect(run.engine.stats().dedupKeys).toBe(1);
    const chunks: Uint8Array[] = [];
    for (let c = cp.next(); c !== undefined; c = cp.next()) chunks.push(c);
    expect(Engine.restoreChunks(engineConfig(), chunks).snapshot()).toEqual(expected);
  });

  it('cut a large state into bounded chunks, one entity with a long list of readings included', () => {
    const run = new EngineRun();
    const n = 2 * DEDUP_KEYS_PER_CHUNK + 5;
    const batch: HuitianEvent[] = [];
    // One point reporting 65k times within a minute: all its readings wait for their minute.
    for (let i = 0; i < n; i++) batch.push(core.depth(i / 1200, 'P1', 1, { district: HLG }, { id: `k-${i}` }));
    run.feed(batch);
    const chunks = chunksOf(run.engine);
    const kinds = chunks.map((c) => c[2]);
    expect(kinds.filter((k) => k === 3)).toHaveLength(3);
    const state = chunks.filter((c) => c[2] === 2);
    expect(state.length).toBeGreaterThan(4);
    for (const c of state) expect(new TextDecoder().decode(c.subarray(8)).length).toBeLessThan(STATE_CHARS_PER_CHUNK + 4096);
    const restored = Engine.restoreChunks(engineConfig(), chunks);
    expect(restored.stats().dedupKeys).toBe(n);
    expect(restored.snapshot()).toEqual(run.engine.snapshot());
  });

  it('are refused when one is missing, repeated, out of order or not a chunk', () => {
    const run = new EngineRun();
    const batch: HuitianEvent[] = [];
    for (let i = 0; i < DEDUP_KEYS_PER_CHUNK + 10; i++) batch.push(core.depth(1, `P${i % 10}`, 1, {}, { id: `k-${i}` }));
    run.feed(batch);
    const chunks = chunksOf(run.engine);
    const n = chunks.length;
    expect(n).toBeGreaterThanOrEqual(3);
    const config = engineConfig();
    expect(() => Engine.restoreChunks(config, [chunks[0]!, ...chunks.slice(2)])).toThrow('engine snapshot chunk 1 missing (got chunk 2)');
    expect(() => Engine.restoreChunks(config, chunks.slice(0, -1))).toThrow(`engine snapshot ends at chunk ${n - 1} without its end`);
    expect(() => Engine.restoreChunks(config, [...chunks, chunks[n - 1]!])).toThrow(`engine snapshot has more than its ${n} chunks`);
    expect(() => Engine.restoreChunks(config, [chunks[1]!, chunks[0]!, ...chunks.slice(2)])).toThrow(SnapshotFormatError);
    // The same chunks renumbered out of their kinds' order are refused too.
    const renumbered = [chunks[0]!, chunks[n - 2]!, chunks[1]!, chunks[n - 1]!].map((c, i) => {
      const copy = c.slice();
      new DataView(copy.buffer).setUint32(4, i, true);
      return copy;
    });
    expect(() => Engine.restoreChunks(config, renumbered)).toThrow('engine snapshot chunk 2 is out of order');
    expect(() => Engine.restoreChunks(config, [new TextEncoder().encode('{"version":1}')])).toThrow('chunk 0 is not an engine snapshot chunk');
    expect(() => Engine.restoreChunks(config, [])).toThrow('engine snapshot has no chunks');
    expect(Engine.restoreChunks(config, chunks).snapshot()).toEqual(run.engine.snapshot());
  });
});

describe('JsonPieces', () => {
  it('gives out exactly JSON.stringify’s text, in pieces, however small the pieces asked for', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 200 }), (value, maxChars) => {
        const pieces = new JsonPieces(value);
        const out: string[] = [];
        for (let p = pieces.next(maxChars); p !== undefined; p = pieces.next(maxChars)) out.push(p);
        expect(out.join('')).toBe(JSON.stringify(value));
      }),
      { numRuns: runs(300) },
    );
    // Properties JSON.stringify leaves out, and array holes it writes as null.
    const odd = { a: undefined, b: [undefined, () => 1, 2], c: { d: undefined }, e: Array.from({ length: 100 }, (_, i) => ({ i, u: undefined })) };
    const pieces = new JsonPieces(odd);
    let text = '';
    for (let p = pieces.next(10); p !== undefined; p = pieces.next(10)) text += p;
    expect(text).toBe(JSON.stringify(odd));
  });
});
