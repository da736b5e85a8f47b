/**
 * `http_eps`: the stream POSTed as NDJSON batches, one after another on one keep-alive
 * connection (as `huitian replay` sends), into the real service in a child process —
 * replay mode, embedded SQLite store — timed from the first request until the engine
 * has accepted every event the in-process run accepted. Each 202 is sent once its batch
 * is applied and durable, so that is also when every event is in the stored KPIs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineStats } from '../src/engine/engine.js';
import { ask, exited, forkChild, waitFor } from './child.js';
import { keepAliveAgent, post } from './http-client.js';
import type { Batch } from './stream.js';

export interface HttpResult {
  http_eps: number;
  seconds: number;
  requests: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The server's resident memory at the end, MB. */
  serverRssMb: number;
}

export interface ServerStats {
  stats: EngineStats;
  memory: NodeJS.MemoryUsage;
}

export async function measureHttp(batches: readonly Batch[], expectedAccepted: number, nodeFlags: string[] = []): Promise<HttpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-http-'));
  const child = forkChild('server-child', { args: [dataDir], nodeFlags });
  try {
    const { address } = await waitFor<{ address: string }>(child, 'ready');
    const url = `${address}/v1/events`;
    const agent = keepAliveAgent();
    const events = batches.reduce((n, b) => n + b.lines, 0);
    let accepted = 0;
    let duplicates = 0;
    let rejected = 0;
    const started = performance.now();
    for (const b of batches) {
      const answer = await post(agent, url, b.bytes, 'application/x-ndjson');
      if (answer.status !== 202) throw new Error(`POST /v1/events answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      const report = JSON.parse(answer.body) as { accepted: number; duplicates: number; rejected: number };
      accepted += report.accepted;
      duplicates += report.duplicates;
      rejected += report.rejected;
    }
    let server = await ask<ServerStats>(child, { type: 'stats' });
    const deadline = performance.now() + 60_000;
    while (server.stats.accepted < expectedAccepted && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      server = await ask<ServerStats>(child, { type: 'stats' });
    }
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    if (server.stats.accepted !== expectedAccepted) {
      throw new Error(`the server accepted ${server.stats.accepted} events, the in-process engine ${expectedAccepted}`);
    }
    return {
      http_eps: Math.round(events / seconds),
      seconds,
      requests: batches.length,
      accepted,
      duplicates,
      rejected,
      serverRssMb: Math.round(server.memory.rss / 1048576),
    };
  } finally {
    if (child.connected) await ask(child, { type: 'stop' }).catch(() => undefined);
    await exited(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
