/**
 * `huitian demo` (`npm run demo`): the quick start. Starts the service on ./data/demo (or
 * HUITIAN_DATA_DIR), replays the bundled demo scenario (made by `huitian simulate`) into it
 * over HTTP, prints where to look and what it found, and keeps serving until Ctrl-C.
 *
 * It says what it does to the data before doing it. A store that already holds this
 * scenario is kept as it is — the alerts a visitor acknowledged stay acknowledged, and
 * replaying it again would only add its invalid lines to the dead letters once more;
 * `--fresh` deletes the store first. A store with other data gets the scenario added,
 * nothing deleted. (It once wiped ./data/demo on every start without a word.)
 *
 * The demo runs in replay time mode: the scenario is a recorded morning of July 2026,
 * so letting the wall clock move its event time on would only decide everything as
 * "nothing more arrived" while the visitor reads the terminal.
 */
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service } from '../service.js';
import { DB_FILE } from '../sqlite/database.js';
import { HttpReplayTarget } from '../replay/http-target.js';
import { replay } from '../replay/replay.js';
import { formatInZone, startOfLocalDay } from '../time/time-zone.js';
import { describeProgress, ProgressLine } from './progress.js';
import { addConfigOptions, startService } from './serve-command.js';

export const DEMO_FILE = fileURLToPath(new URL('../../demo/huitian-demo.ndjson', import.meta.url));
const DEFAULT_DEMO_DIR = './data/demo';
/** The store's record that the demo scenario was loaded: which file (its SHA-256) and when. */
export const DEMO_MARKER = 'demo:scenario';

interface DemoMarker {
  sha256: string;
  loadedAt: string;
}

/** What is in the store already, and so what the demo does with it. */
type StoreState = { kind: 'empty' } | { kind: 'demo'; loadedAt: string } | { kind: 'other'; events: number };

function storeState(service: Service, sha256: string): StoreState {
  const marker = service.store.checkpoint(DEMO_MARKER);
  if (marker !== undefined) {
    const m = JSON.parse(marker) as DemoMarker;
    if (m.sha256 === sha256) return { kind: 'demo', loadedAt: m.loadedAt };
  }
  const s = service.pipeline.engine.stats();
  const events = s.accepted + s.duplicates + s.late + s.future + s.conflicts;
  if (events > 0 || service.store.listDeadLetters(1).items.length > 0 || service.store.listAlerts({ limit: 1 }).items.length > 0) {
    return { kind: 'other', events };
  }
  return { kind: 'empty' };
}

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('start the service on ./data/demo, replay the bundled demo scenario into it, and keep serving');
  cmd.option('--fresh', 'delete the store in the data directory first, and load the scenario anew');
  const overridesOf = addConfigOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    if (!existsSync(DEMO_FILE)) command.error(`huitian demo: the demo scenario is missing: ${DEMO_FILE}`, { exitCode: 1 });
    const overrides = overridesOf(opts);
    const dataDir = (overrides.dataDir as string | undefined) ?? process.env.HUITIAN_DATA_DIR ?? DEFAULT_DEMO_DIR;
    const out = process.stdout;
    if (opts.fresh === true && existsSync(join(dataDir, DB_FILE))) {
      out.write(`--fresh: deleting the store in ${dataDir} (${DB_FILE}: its KPIs, alerts and dead letters)\n`);
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, DB_FILE + suffix), { force: true });
    }
    const sha256 = createHash('sha256').update(readFileSync(DEMO_FILE)).digest('hex');
    await startService({ ...overrides, dataDir, timeMode: 'replay' }, async ({ service, address }) => {
      const base = address.replace('://[::1]', '://localhost');
      let token: string | undefined;
      for (const [t, role] of service.config.tokenRoles) if (role === 'admin' || role === 'ingest') token ??= t;
      const zone = service.config.timeZone;
      out.write(`\n回天城市大脑 · huitian-brain demo\nconsole: ${base}/console/\nservice: ${base}  (data: ${dataDir})\n`);
      const state = storeState(service, sha256);
      if (state.kind === 'demo') {
        out.write(
          `the demo scenario is already loaded in ${dataDir} (since ${formatInZone(Date.parse(state.loadedAt), zone)}): keeping it as it is, with the alerts you acknowledged.\n` +
            'To start over: npm run demo -- --fresh (deletes the store first)\n\n',
        );
      } else {
        out.write(
          state.kind === 'empty'
            ? `loading the demo scenario into a new store in ${dataDir} …\n`
            : `${dataDir} already holds other data (${state.events.toLocaleString('en-US')} events): adding the demo scenario to it, deleting nothing (--fresh deletes it first) …\n`,
        );
        const progress = new ProgressLine(zone);
        const result = await replay({
          file: DEMO_FILE,
          target: new HttpReplayTarget({ baseUrl: base, token }),
          speed: Number.POSITIVE_INFINITY,
          onProgress: (p) => progress.update(p),
        });
        progress.done();
        service.store.commit({
          log: null,
          partials: [],
          alerts: [],
          deadLetters: [],
          checkpoints: [[DEMO_MARKER, JSON.stringify({ sha256, loadedAt: new Date().toISOString() } satisfies DemoMarker)]],
        });
        out.write(`${describeProgress(result, zone)}\n\n`);
      }
      const stats = service.pipeline.engine.stats();
      const active = service.store.listAlerts({ status: 'active', limit: 500 }).items;
      const bySeverity = new Map<string, number>();
      for (const a of active) bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1);
      // The local calendar day of the newest event and the day before, as an operator would ask.
      const today = stats.maxEventTime === null ? null : startOfLocalDay(stats.maxEventTime, zone);
      const from = today === null ? null : formatInZone(startOfLocalDay(today - 1, zone), zone);
      const to = today === null ? null : formatInZone(startOfLocalDay(today + 36 * 3_600_000, zone), zone);
      const range = from === null ? '' : `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to!)}&`;
      out.write(
        [
          `active alerts: ${active.length} (${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'})`,
          '',
          'where to look:',
          `  operations console             ${base}/console/`,
          `  alerts (open + acknowledged)   curl '${base}/v1/alerts?status=active'`,
          `  live alert stream (SSE)        curl -N '${base}/v1/alerts/stream?lastEventId=0'`,
          `  KPI catalogue                  curl '${base}/v1/kpis'`,
          `  5-min fire response coverage   curl '${base}/v1/kpis/fire_response_coverage_5min?${range}groupBy=district'`,
          `  deepest water per point        curl '${base}/v1/kpis/waterlogging_max_depth_cm?${range}groupBy=point'`,
          `  parking occupancy, hourly      curl '${base}/v1/kpis/parking_occupancy_rate/series?${range}step=1h'`,
          `  rejected events                curl '${base}/v1/dead-letters'`,
          `  API docs (OpenAPI)             ${base}/docs`,
          `  metrics                        ${base}/metrics`,
          '',
          'Ctrl-C stops the service.',
          '',
        ].join('\n'),
      );
    });
  });
}
