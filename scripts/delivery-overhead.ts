/**
 * What the notification stage costs ingest (issue 12): one stream posted as NDJSON into the
 * service with no `notifications` config, and with routes that match every alert (grouped,
 * per-alert, escalation) into an outbox whose receiver never answers. Prints events/s of
 * each and how many deliveries were queued. `npx tsx scripts/delivery-overhead.ts FILE.ndjson`
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createService } from '../src/service.js';

const file = process.argv[2]!;
const text = readFileSync(file, 'utf8');
const lines = text.split('\n').filter((l) => l !== '');
const BATCH = 5000;

async function run(notifications: unknown): Promise<{ eps: number; deliveries: number; alerts: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'huitian-dbench-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ notifications }));
  const config = loadConfig({ HUITIAN_DATA_DIR: dir, HUITIAN_TIME_MODE: 'replay', HUITIAN_CONFIG: cfg, HUITIAN_INSTANCE_ID: 'bench' });
  const service = await createService(config, { logger: createLogger('silent') });
  const started = performance.now();
  for (let i = 0; i < lines.length; i += BATCH) {
    const res = await service.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.slice(i, i + BATCH).join('\n') });
    if (res.statusCode !== 202) throw new Error(res.body);
  }
  const seconds = (performance.now() - started) / 1000;
  const deliveries = service.store.deliveryCounts().reduce((n, r) => n + r.count, 0);
  const alerts = service.store.countAlerts().reduce((n, r) => n + r.count, 0);
  await service.stop();
  return { eps: Math.round(lines.length / seconds), deliveries, alerts };
}

const all = {
  receivers: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/never', secret: 'a-secret-of-sixteen-chars' }, cap: { type: 'cap', url: 'http://127.0.0.1:9/cap' } },
  routes: [
    { name: 'grouped', receivers: ['hook'], continue: true },
    { name: 'each', receivers: ['hook', 'cap'], groupWaitSeconds: 0, continue: true },
    { name: 'chief', receivers: ['hook'], escalationOnly: true },
  ],
  escalation: { red: { afterMinutes: 5, route: 'chief', repeatMinutes: 10 }, orange: { afterMinutes: 10, route: 'chief', repeatMinutes: 30 }, yellow: { afterMinutes: 30, route: 'chief' } },
};
// Alternating rounds, medians: the machine this runs on is shared and noisy.
const rounds = Number(process.argv[3] ?? 5);
const none: number[] = [];
const configured: number[] = [];
let queued = 0;
let alerts = 0;
for (let round = 0; round < rounds; round++) {
  none.push((await run({})).eps);
  const c = await run(all);
  configured.push(c.eps);
  queued = c.deliveries;
  alerts = c.alerts;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ events: lines.length, alerts, deliveriesQueued: queued, none, configured, medianNone: median(none), medianConfigured: median(configured), ratio: +(median(configured) / median(none)).toFixed(3) }));
