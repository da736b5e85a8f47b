/** `rss_mb_100k_entities`: see memory-child.ts; measured in a child process of its own. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineStats } from '../src/engine/engine.js';
import { exited, forkChild, waitFor } from './child.js';

export interface MemoryResult {
  rss_mb: number;
  entities: number;
  events: number;
  heapUsedMb: number;
  /** RSS of the same process with the service built and nothing ingested. */
  baselineRssMb: number;
  stats: EngineStats;
}

const MB = 1048576;

export async function measureMemory(entities = 100_000): Promise<MemoryResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-rss-'));
  const child = forkChild('memory-child', { args: [dataDir, String(entities)], nodeFlags: ['--expose-gc'] });
  try {
    const m = await waitFor<{ events: number; stats: EngineStats; baseline: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage }>(child, 'memory');
    return {
      rss_mb: Math.round(m.after.rss / MB),
      entities,
      events: m.events,
      heapUsedMb: Math.round(m.after.heapUsed / MB),
      baselineRssMb: Math.round(m.baseline.rss / MB),
      stats: m.stats,
    };
  } finally {
    await exited(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
