/**
 * `dedup_mb_at_bound` and `checkpoint_stall_ms_max` (see checkpoint-child.ts for the state).
 *
 * With the service holding its dedup index at the bound (~2.6 million remembered ids at
 * the default 256 MB), one keep-alive client sends, one after another for `seconds`, a
 * single-event POST and a GET /healthz, timing each. The service checkpoints every 3 s
 * meanwhile. The figure is the slowest request that overlapped a checkpoint, from its
 * capture to the switch to the new snapshot; the details say how many there were, what the
 * other requests took, and what one checkpoint blocked for before (one JSON text).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineStats } from '../src/engine/engine.js';
import type { CheckpointReport } from '../src/pipeline/pipeline.js';
import { percentile } from './alert-latency.js';
import { ask, exited, forkChild, waitFor } from './child.js';
import { keepAliveAgent, post } from './http-client.js';

export interface DedupBoundResult {
  dedup_mb_at_bound: number;
  boundMb: number;
  /** The index's own estimate of its memory. */
  estimatedMb: number;
  keys: number;
  evictedKeys: number;
  events: number;
  fillSeconds: number;
  rssMb: number;
}

export interface CheckpointResult {
  checkpoint_stall_ms_max: number;
  checkpoints: number;
  requests: number;
  requestsDuringCheckpoints: number;
  p50DuringMs: number;
  p50OutsideMs: number;
  maxOutsideMs: number;
  /** As the service measured them: the longest single hold of the event loop, capture, chunks, size, duration. */
  longestPauseMs: number;
  captureMs: number;
  chunks: number;
  snapshotMb: number;
  checkpointSeconds: number;
  restoreSeconds: number;
  /** One checkpoint of the same state in the format before chunks: one JSON text, written at once. */
  before: { stringifyMs: number; writeMs: number; mb: number };
}

function get(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function measureCheckpoint(options: { boundMb: number; seconds: number }): Promise<{ dedup: DedupBoundResult; checkpoint: CheckpointResult }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-checkpoint-'));
  const child = forkChild('checkpoint-child', { args: [dataDir, String(options.boundMb)], nodeFlags: ['--expose-gc'] });
  try {
    const filled = waitFor<{ boundMb: number; events: number; fillSeconds: number; stats: EngineStats; atBound: NodeJS.MemoryUsage; dedupMb: number }>(child, 'dedup');
    const ready = waitFor<{ address: string; before: CheckpointResult['before']; restoreSeconds: number; lastFillTime: number }>(child, 'ready');
    const d = await filled;
    const dedup: DedupBoundResult = {
      dedup_mb_at_bound: round(d.dedupMb),
      boundMb: d.boundMb,
      estimatedMb: round(d.stats.dedupBytes / 1048576),
      keys: d.stats.dedupKeys,
      evictedKeys: d.stats.dedupEvictedKeys,
      events: d.events,
      fillSeconds: round(d.fillSeconds),
      rssMb: Math.round(d.atBound.rss / 1048576),
    };
    const { address, before, restoreSeconds, lastFillTime } = await ready;

    const agent = keepAliveAgent();
    const samples: Array<{ start: number; end: number; ms: number }> = [];
    const until = performance.now() + options.seconds * 1000;
    for (let i = 0; performance.now() < until; i++) {
      const event = {
        specversion: '1.0',
        id: `bench-checkpoint-${i}`,
        source: '/sensors/waterlogging',
        type: 'huitian.waterlogging.reading',
        time: new Date(lastFillTime + i).toISOString(),
        data: { pointId: `BENCH-${String(i % 1000).padStart(4, '0')}`, depthCm: 3, district: '回龙观街道' },
      };
      for (const send of [() => post(agent, `${address}/v1/events`, JSON.stringify(event), 'application/cloudevents+json').then((a) => a.status), () => get(agent, `${address}/healthz`)]) {
        const start = Date.now();
        const t = performance.now();
        const status = await send();
        const ms = performance.now() - t;
        if (status !== 202 && status !== 200) throw new Error(`checkpoint benchmark: a request answered ${status}`);
        samples.push({ start, end: start + ms, ms });
      }
    }
    agent.destroy();
    // The last checkpoint may still be being written: wait for it, so every window is known.
    let s = await ask<{ checkpoints: { inProgress: boolean; recent: CheckpointReport[] } }>(child, { type: 'stats' });
    while (s.checkpoints.inProgress) {
      await new Promise((r) => setTimeout(r, 100));
      s = await ask(child, { type: 'stats' });
    }
    const windows = s.checkpoints.recent;
    if (windows.length === 0) throw new Error('checkpoint benchmark: no checkpoint was written while it measured');
    const overlaps = (x: (typeof samples)[number]) => windows.some((w) => x.start <= w.finishedAt && x.end >= w.startedAt);
    const during = samples.filter(overlaps);
    const outside = samples.filter((x) => !overlaps(x));
    const sorted = (list: typeof samples) => list.map((x) => x.ms).sort((a, b) => a - b);
    const last = windows[windows.length - 1]!;
    return {
      dedup,
      checkpoint: {
        checkpoint_stall_ms_max: round(Math.max(...during.map((x) => x.ms), 0), 2),
        checkpoints: windows.length,
        requests: samples.length,
        requestsDuringCheckpoints: during.length,
        p50DuringMs: round(percentile(sorted(during), 50), 2),
        p50OutsideMs: round(percentile(sorted(outside), 50), 2),
        maxOutsideMs: round(Math.max(...outside.map((x) => x.ms), 0), 2),
        longestPauseMs: round(Math.max(...windows.map((w) => w.longestPauseMs)), 2),
        captureMs: round(Math.max(...windows.map((w) => w.captureMs)), 2),
        chunks: last.chunks,
        snapshotMb: round(last.bytes / 1048576),
        checkpointSeconds: round(last.elapsedMs / 1000, 2),
        restoreSeconds: round(restoreSeconds, 2),
        before: { stringifyMs: Math.round(before.stringifyMs), writeMs: Math.round(before.writeMs), mb: Math.round(before.mb) },
      },
    };
  } finally {
    if (child.connected) await ask(child, { type: 'stop' }).catch(() => undefined);
    await exited(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
