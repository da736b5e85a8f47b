/**
 * Task checkpoints in the compacted `G.tasks` topic (docs/cluster.md §2–3).
 *
 * A checkpoint is JSON, gzip'd, split into chunks of at most CHUNK_BYTES (below Kafka's
 * default 1 MiB message limit, so no broker setting has to change), written to one of
 * two slots in turn; the manifest, written last to the same partition, names the slot.
 * A crash half-way through writing leaves the manifest pointing at the previous,
 * complete slot. All keys of one task go to one partition, so a reader that has seen a
 * manifest has seen its chunks.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Message } from 'kafkajs';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const CHUNK_BYTES = 512 * 1024;

export interface Manifest {
  task: string;
  slot: 0 | 1;
  chunks: number;
  bytes: number;
  sha256: string;
  /** The input offset the checkpoint covers: the next record to read. */
  offset: string;
  seq: number;
}

export function partitionOfTask(task: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < task.length; i++) h = (Math.imul(h, 31) + task.charCodeAt(i)) | 0;
  return Math.abs(h) % partitions;
}

export const chunkKey = (task: string, slot: number, i: number) => `${task}/${slot}/${i}`;

/** Slot and chunk count last used, per task and slot, so stale chunks can be tombstoned. */
export class CheckpointWriter {
  private readonly last = new Map<string, { seq: number; counts: [number, number] }>();

  /** Learns what a restored task's previous checkpoints used. */
  remember(task: string, manifest: Manifest | undefined, slotCounts: [number, number]): void {
    this.last.set(task, { seq: manifest?.seq ?? 0, counts: slotCounts });
  }

  /**
   * The chunk messages (each its own send) and the manifest message, in write order.
   * `newest`: the newest manifest of the task on the topic, if the reader has one. A task
   * kept across a rebalance it missed (this instance dropped out of the group and came
   * back) may have been checkpointed by another owner meanwhile; continuing from the newest
   * sequence keeps the chunks of the slot that manifest names from being overwritten.
   */
  async encode(task: string, offset: bigint, state: unknown, newest?: Manifest): Promise<{ chunks: Message[]; manifest: Message; manifestValue: Manifest }> {
    const json = Buffer.from(JSON.stringify(state));
    const zipped = await gzipAsync(json);
    const prev = this.last.get(task) ?? { seq: 0, counts: [0, 0] as [number, number] };
    const seq = Math.max(prev.seq, newest?.seq ?? 0) + 1;
    const slot = (seq % 2) as 0 | 1;
    const n = Math.max(1, Math.ceil(zipped.length / CHUNK_BYTES));
    const chunks: Message[] = [];
    for (let i = 0; i < n; i++) chunks.push({ key: chunkKey(task, slot, i), value: zipped.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) });
    for (let i = n; i < prev.counts[slot]; i++) chunks.push({ key: chunkKey(task, slot, i), value: null });
    const manifestValue: Manifest = { task, slot, chunks: n, bytes: zipped.length, sha256: createHash('sha256').update(zipped).digest('hex'), offset: offset.toString(), seq };
    const counts: [number, number] = [...prev.counts];
    counts[slot] = n;
    this.last.set(task, { seq, counts });
    return { chunks, manifest: { key: task, value: JSON.stringify(manifestValue) }, manifestValue };
  }
}

/** The newest manifest of `task` among the latest values, unchecked. */
export function newestManifest(task: string, latest: ReadonlyMap<string, Buffer | null>): Manifest | undefined {
  const raw = latest.get(task);
  return raw === undefined || raw === null ? undefined : (JSON.parse(raw.toString('utf8')) as Manifest);
}

/** Assembles the latest checkpoint of `task` from the latest value of each key. */
export async function decodeCheckpoint(
  task: string,
  latest: ReadonlyMap<string, Buffer | null>,
): Promise<{ manifest: Manifest; state: unknown; slotCounts: [number, number] } | null> {
  const raw = latest.get(task);
  if (raw === undefined || raw === null) return null;
  const manifest = JSON.parse(raw.toString('utf8')) as Manifest;
  const parts: Buffer[] = [];
  for (let i = 0; i < manifest.chunks; i++) {
    const c = latest.get(chunkKey(task, manifest.slot, i));
    if (c === undefined || c === null) throw new Error(`checkpoint of ${task} (seq ${manifest.seq}) misses chunk ${i}`);
    parts.push(c);
  }
  const zipped = Buffer.concat(parts);
  const digest = createHash('sha256').update(zipped).digest('hex');
  if (zipped.length !== manifest.bytes || digest !== manifest.sha256) throw new Error(`checkpoint of ${task} (seq ${manifest.seq}) does not match its manifest`);
  const state = JSON.parse((await gunzipAsync(zipped)).toString('utf8')) as unknown;
  const count = (slot: number) => {
    let i = 0;
    while (latest.get(chunkKey(task, slot, i)) != null) i++;
    return i;
  };
  return { manifest, state, slotCounts: [count(0), count(1)] };
}
