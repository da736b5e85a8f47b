/**
 * Task checkpoints in `G.tasks` (docs/cluster.md §2): chunked below the broker's message
 * limit, two alternating slots, the manifest written last. The "topic" here is the map of
 * latest values per key that a reader of the compacted topic holds.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, CheckpointWriter, chunkKey, decodeCheckpoint, type Manifest } from '../../src/cluster/checkpoints.js';

type Topic = Map<string, Buffer | null>;

const write = (topic: Topic, messages: readonly Message[]) => {
  for (const m of messages) topic.set(String(m.key), m.value === null ? null : Buffer.from(m.value as Buffer | string));
};

/** A state that gzip cannot shrink much, so its size in chunks is predictable. */
const bulky = (bytes: number, tag: string) => ({ tag, noise: randomBytes(bytes).toString('base64') });

describe('task checkpoints', () => {
  it('splits a large state into chunks no larger than the limit and reads it back', async () => {
    const topic: Topic = new Map();
    const writer = new CheckpointWriter();
    const state = bulky(3 * CHUNK_BYTES, 'big');
    const { chunks, manifest, manifestValue } = await writer.encode('t-1', 42n, state);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const c of chunks) expect((c.value as Buffer).length).toBeLessThanOrEqual(CHUNK_BYTES);
    write(topic, chunks);
    write(topic, [manifest]);
    const back = await decodeCheckpoint('t-1', topic);
    expect(back?.state).toEqual(state);
    expect(back?.manifest).toEqual(manifestValue);
    expect(back?.manifest.offset).toBe('42');
  });

  it('alternates slots, so a crash half-way through a checkpoint leaves the previous one whole', async () => {
    const topic: Topic = new Map();
    const writer = new CheckpointWriter();
    const first = await writer.encode('t-1', 10n, bulky(2 * CHUNK_BYTES, 'first'));
    write(topic, first.chunks);
    write(topic, [first.manifest]);
    const second = await writer.encode('t-1', 20n, bulky(2 * CHUNK_BYTES, 'second'));
    expect(second.manifestValue.slot).not.toBe(first.manifestValue.slot);
    // The process dies after one chunk of the second checkpoint: no manifest.
    write(topic, second.chunks.slice(0, 1));
    const back = await decodeCheckpoint('t-1', topic);
    expect(back?.manifest.offset).toBe('10');
    expect((back?.state as { tag: string }).tag).toBe('first');
  });

  it('tombstones the chunks a smaller checkpoint no longer uses, and a restored writer continues the sequence', async () => {
    const topic: Topic = new Map();
    const writer = new CheckpointWriter();
    const steps = [bulky(3 * CHUNK_BYTES, 'a'), bulky(3 * CHUNK_BYTES, 'b'), { tag: 'c' }, { tag: 'd' }];
    let last: Manifest | undefined;
    for (const [i, s] of steps.entries()) {
      const cp = await writer.encode('t-1', BigInt(i), s);
      write(topic, cp.chunks);
      write(topic, [cp.manifest]);
      last = cp.manifestValue;
    }
    // Both slots now hold one chunk; the large checkpoints' other chunks are tombstones.
    for (const slot of [0, 1]) {
      expect(topic.get(chunkKey('t-1', slot, 0))).toBeInstanceOf(Buffer);
      for (let i = 1; i < 4; i++) expect(topic.get(chunkKey('t-1', slot, i)) ?? null).toBeNull();
    }
    const back = await decodeCheckpoint('t-1', topic);
    expect(back?.slotCounts).toEqual([1, 1]);
    // The next owner learns the sequence from the topic and writes to the other slot.
    const next = new CheckpointWriter();
    next.remember('t-1', back!.manifest, back!.slotCounts);
    const cp = await next.encode('t-1', 9n, { tag: 'e' });
    expect(cp.manifestValue.seq).toBe(last!.seq + 1);
    expect(cp.manifestValue.slot).not.toBe(last!.slot);
  });

  it('never writes into the slot the newest manifest on the topic names, even when its own count is behind', async () => {
    const topic: Topic = new Map();
    const other = new CheckpointWriter();
    const mine = new CheckpointWriter();
    const a = await mine.encode('t-1', 1n, { tag: 'mine' });
    write(topic, a.chunks);
    write(topic, [a.manifest]);
    // Another owner took the task over meanwhile and checkpointed once: seq 2, the slot
    // `mine` would use next by its own count.
    other.remember('t-1', a.manifestValue, [0, 1]);
    const b = await other.encode('t-1', 2n, { tag: 'other' });
    write(topic, b.chunks);
    write(topic, [b.manifest]);
    const newest = (await decodeCheckpoint('t-1', topic))!.manifest;
    const cp = await mine.encode('t-1', 4n, { tag: 'mine again' }, newest);
    expect(cp.manifestValue.seq).toBe(newest.seq + 1);
    expect(cp.manifestValue.slot).not.toBe(newest.slot);
  });

  it('refuses a checkpoint whose chunks do not match its manifest', async () => {
    const topic: Topic = new Map();
    const writer = new CheckpointWriter();
    const cp = await writer.encode('t-1', 5n, bulky(CHUNK_BYTES, 'x'));
    write(topic, cp.chunks);
    write(topic, [cp.manifest]);
    const key = chunkKey('t-1', cp.manifestValue.slot, 0);
    const damaged = Buffer.from(topic.get(key)!);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    topic.set(key, damaged);
    await expect(decodeCheckpoint('t-1', topic)).rejects.toThrow(/does not match its manifest/);
    topic.delete(key);
    await expect(decodeCheckpoint('t-1', topic)).rejects.toThrow(/misses chunk 0/);
  });

  it('has no checkpoint for a task never written', async () => {
    expect(await decodeCheckpoint('t-9', new Map())).toBeNull();
  });
});
