/**
 * Replays a recorded NDJSON stream at a speed factor of event time: an event whose time
 * is t seconds after the first is sent t / speed seconds after the start (`max`: as fast
 * as the target takes them). Lines go out in file order — the recording's own disorder
 * is part of what is being replayed — paced by the newest event time seen so far.
 * Batches are sent one at a time, so the target sees the file's order.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseRfc3339 } from '../events/event-time.js';
import type { ReplayTarget, SendResult } from './replay-target.js';

export interface ReplayOptions {
  file: string;
  target: ReplayTarget;
  /** Event-time speed factor; `Infinity` for max. */
  speed: number;
  batchSize?: number;
  wallClock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayProgress extends Required<SendResult> {
  sent: number;
  /** Newest event time sent, epoch ms, or null. */
  eventTime: number | null;
  elapsedMs: number;
}

const TIME_FIELD = /"time"\s*:\s*"([^"]+)"/;

/** Event time of a line without a full parse (a malformed line has none and is sent as is). */
export function lineEventTime(line: string): number | undefined {
  const m = TIME_FIELD.exec(line);
  return m === null ? undefined : parseRfc3339(m[1]!);
}

export async function replay(options: ReplayOptions): Promise<ReplayProgress> {
  const clock = options.wallClock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const batchSize = options.batchSize ?? 1000;
  const started = clock();
  const progress: ReplayProgress = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, late: 0, invalid: 0, future: 0, conflicts: 0, eventTime: null, elapsedMs: 0 };
  let firstEventTime: number | null = null;
  let batch: string[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    const r = await options.target.send(lines);
    progress.sent += lines.length;
    progress.accepted += r.accepted;
    progress.duplicates += r.duplicates;
    progress.rejected += r.rejected;
    progress.late += r.late ?? 0;
    progress.invalid += r.invalid ?? 0;
    progress.future += r.future ?? 0;
    progress.conflicts += r.conflicts ?? 0;
    progress.elapsedMs = clock() - started;
    options.onProgress?.({ ...progress });
  };

  const input = createInterface({ input: createReadStream(options.file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const raw of input) {
    const line = raw.trim();
    if (line === '') continue;
    const t = lineEventTime(line);
    if (t !== undefined) {
      if (firstEventTime === null) firstEventTime = t;
      if (progress.eventTime === null || t > progress.eventTime) {
        // The line is due at its offset from the first event, scaled by the speed.
        if (Number.isFinite(options.speed) && progress.eventTime !== null) {
          const due = started + (t - firstEventTime) / options.speed;
          const wait = due - clock();
          if (wait > 0) {
            await flush();
            const again = due - clock();
            if (again > 0) await sleep(again);
          }
        }
        progress.eventTime = t;
      }
    }
    batch.push(line);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  progress.elapsedMs = clock() - started;
  return progress;
}
