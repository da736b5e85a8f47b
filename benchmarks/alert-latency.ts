/**
 * `alert_latency_ms_p99`: from sending the POST of a threshold-crossing waterlogging
 * reading (30 cm, over the 15 cm yellow and 27 cm orange levels) until its alert arrives
 * on the SSE stream GET /v1/alerts/stream, over `crossings` readings on distinct points,
 * one at a time, into an otherwise idle service (a child process, replay mode, embedded
 * store). A few crossings first warm the server up and are not counted.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, exited, forkChild, waitFor } from './child.js';
import { keepAliveAgent, post } from './http-client.js';

export interface LatencyResult {
  alert_latency_ms_p99: number;
  p50: number;
  max: number;
  crossings: number;
}

const WARM_UP = 20;

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function within<T>(promise: Promise<T>, ms: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(failure)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Subscribes to the SSE stream; calls `onAlert` with each alert's entity id as it arrives. */
function subscribe(address: string, onAlert: (entityId: string) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(`${address}/v1/alerts/stream`, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /v1/alerts/stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffered = '';
      let connected = false;
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (!connected) {
            // The first message is the stream's greeting: from here on nothing is missed.
            connected = true;
            resolve(() => req.destroy());
          }
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) onAlert((JSON.parse(data.slice(6)) as { alert: { entityId: string } }).alert.entityId);
        }
      });
    });
    req.on('error', (err) => {
      if (!('code' in err && err.code === 'ECONNRESET')) reject(err);
    });
    req.end();
  });
}

export async function measureAlertLatency(crossings = 200, nodeFlags: string[] = []): Promise<LatencyResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-sse-'));
  const child = forkChild('server-child', { args: [dataDir], nodeFlags });
  let unsubscribe = () => {};
  try {
    const { address } = await waitFor<{ address: string }>(child, 'ready');
    const waiting = new Map<string, () => void>();
    unsubscribe = await subscribe(address, (entityId) => {
      waiting.get(entityId)?.();
      waiting.delete(entityId);
    });
    const agent = keepAliveAgent();
    const base = Date.parse('2026-07-21T08:00:00+08:00');
    const samples: number[] = [];
    for (let i = 0; i < WARM_UP + crossings; i++) {
      const pointId = `BENCH-P-${String(i).padStart(4, '0')}`;
      const event = {
        specversion: '1.0',
        id: `bench-latency-${i}`,
        source: '/sensors/waterlogging',
        type: 'huitian.waterlogging.reading',
        time: new Date(base + i * 1000).toISOString(),
        data: { pointId, depthCm: 30, district: '回龙观街道' },
      };
      const arrived = new Promise<number>((resolve) => waiting.set(pointId, () => resolve(performance.now())));
      const sent = performance.now();
      const answer = await post(agent, `${address}/v1/events`, JSON.stringify(event), 'application/cloudevents+json');
      if (answer.status !== 202) throw new Error(`POST /v1/events answered ${answer.status}: ${answer.body}`);
      const at = await within(arrived, 10_000, `no alert for ${pointId} within 10 s`);
      if (i >= WARM_UP) samples.push(at - sent);
    }
    agent.destroy();
    samples.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { alert_latency_ms_p99: round(percentile(samples, 99)), p50: round(percentile(samples, 50)), max: round(samples[samples.length - 1]!), crossings };
  } finally {
    unsubscribe();
    if (child.connected) await ask(child, { type: 'stop' }).catch(() => undefined);
    await exited(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
