/**
 * `alert_latency_ms_p99`: from sending the POST of a threshold-crossing waterlogging
 * reading (30 cm, over the 15 cm yellow and 27 cm orange levels) until its alert arrives
 * on the SSE stream GET /v1/alerts/stream, over `crossings` readings on distinct points,
 * one at a time, a few milliseconds apart, into the service in a child process (replay
 * mode, embedded store) — otherwise idle, or with light background load: another client
 * posting batches of ordinary readings meanwhile. A few crossings first warm the server
 * up and are not counted.
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
  /** Background readings sent while measuring (0: the server was otherwise idle). */
  backgroundEvents: number;
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

export interface LatencyOptions {
  crossings: number;
  /** Background readings per second posted meanwhile on a second connection (0: idle). */
  backgroundEps: number;
  nodeFlags: string[];
}

const BACKGROUND_BATCH = 100;

export async function measureAlertLatency(options: LatencyOptions): Promise<LatencyResult> {
  const { crossings, backgroundEps, nodeFlags } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'huitian-bench-sse-'));
  const child = forkChild('server-child', { args: [dataDir], nodeFlags });
  let unsubscribe = () => {};
  let stopBackground = () => {};
  try {
    const { address } = await waitFor<{ address: string }>(child, 'ready');
    const waiting = new Map<string, () => void>();
    unsubscribe = await subscribe(address, (entityId) => {
      waiting.get(entityId)?.();
      waiting.delete(entityId);
    });
    const agent = keepAliveAgent();
    const base = Date.parse('2026-07-21T08:00:00+08:00');
    let clock = base;
    const background = backgroundEps > 0 ? startBackground(address, backgroundEps, () => clock) : undefined;
    stopBackground = () => background?.stop();
    const samples: number[] = [];
    for (let i = 0; i < WARM_UP + crossings; i++) {
      clock = base + i * 1000;
      const pointId = `BENCH-P-${String(i).padStart(4, '0')}`;
      const event = reading(`bench-latency-${i}`, clock, pointId, 30);
      const arrived = new Promise<number>((resolve) => waiting.set(pointId, () => resolve(performance.now())));
      const sent = performance.now();
      const answer = await post(agent, `${address}/v1/events`, JSON.stringify(event), 'application/cloudevents+json');
      if (answer.status !== 202) throw new Error(`POST /v1/events answered ${answer.status}: ${answer.body}`);
      const at = await within(arrived, 10_000, `no alert for ${pointId} within 10 s`);
      if (i >= WARM_UP) samples.push(at - sent);
      // Crossings a few milliseconds apart, not back to back: an operator's feed, not a flood.
      await new Promise((r) => setTimeout(r, 5));
    }
    await background?.stop();
    agent.destroy();
    samples.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      alert_latency_ms_p99: round(percentile(samples, 99)),
      p50: round(percentile(samples, 50)),
      max: round(samples[samples.length - 1]!),
      crossings,
      backgroundEvents: background?.sent() ?? 0,
    };
  } finally {
    stopBackground();
    unsubscribe();
    if (child.connected) await ask(child, { type: 'stop' }).catch(() => undefined);
    await exited(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function reading(id: string, time: number, pointId: string, depthCm: number): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    source: '/sensors/waterlogging',
    type: 'huitian.waterlogging.reading',
    time: new Date(time).toISOString(),
    data: { pointId, depthCm, district: '回龙观街道' },
  };
}

/**
 * Light background load: batches of shallow readings (no alert) on 500 other points, at the
 * crossings' event time, on their own connection, paced to `eps`.
 */
function startBackground(address: string, eps: number, clock: () => number): { stop(): Promise<void>; sent(): number } {
  const agent = keepAliveAgent();
  let running = true;
  let sent = 0;
  const intervalMs = (BACKGROUND_BATCH / eps) * 1000;
  const loop = (async () => {
    let next = performance.now();
    while (running) {
      const time = clock();
      const lines: string[] = [];
      for (let k = 0; k < BACKGROUND_BATCH; k++, sent++) lines.push(JSON.stringify(reading(`bench-bg-${sent}`, time, `BENCH-BG-${sent % 500}`, 5)));
      const answer = await post(agent, `${address}/v1/events`, `${lines.join('\n')}\n`, 'application/x-ndjson');
      if (answer.status !== 202) throw new Error(`background POST answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      next += intervalMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
    },
    sent: () => sent,
  };
}
