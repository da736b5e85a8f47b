/**
 * `huitian demo` (`npm run demo`): the quick start. Starts the service on a fresh data
 * directory, replays the bundled demo scenario (made by `huitian simulate`) into it over
 * HTTP, prints where to look and what it found, and keeps serving until Ctrl-C.
 *
 * The demo runs in replay time mode: the scenario is a recorded morning of July 2026,
 * so letting the wall clock move its event time on would only decide everything as
 * "nothing more arrived" while the visitor reads the terminal.
 */
import { Command } from 'commander';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatRfc3339 } from '../events/event-time.js';
import { HttpReplayTarget } from '../replay/http-target.js';
import { replay } from '../replay/replay.js';
import { describeProgress, ProgressLine } from './progress.js';
import { addConfigOptions, startService } from './serve-command.js';

export const DEMO_FILE = fileURLToPath(new URL('../../demo/huitian-demo.ndjson', import.meta.url));
const DEFAULT_DEMO_DIR = './data/demo';

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('start the service on ./data/demo, replay the bundled demo scenario into it, and keep serving');
  const overridesOf = addConfigOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>, command: Command) => {
    if (!existsSync(DEMO_FILE)) command.error(`huitian demo: the demo scenario is missing: ${DEMO_FILE}`, { exitCode: 1 });
    const overrides = overridesOf(opts);
    const dataDir = (overrides.dataDir as string | undefined) ?? process.env.HUITIAN_DATA_DIR ?? DEFAULT_DEMO_DIR;
    // Only the default demo directory is wiped; a directory the user named is theirs.
    if (dataDir === DEFAULT_DEMO_DIR) rmSync(dataDir, { recursive: true, force: true });
    await startService({ ...overrides, dataDir, timeMode: 'replay' }, async ({ service, address }) => {
      const out = process.stdout;
      const base = address.replace('://[::1]', '://localhost');
      let token: string | undefined;
      for (const [t, role] of service.config.tokenRoles) if (role === 'admin' || role === 'ingest') token ??= t;
      out.write(`\n回天城市大脑 · huitian-brain demo\nservice: ${base}  (data: ${dataDir})\nreplaying ${DEMO_FILE} …\n`);
      const progress = new ProgressLine();
      const result = await replay({
        file: DEMO_FILE,
        target: new HttpReplayTarget({ baseUrl: base, token }),
        speed: Number.POSITIVE_INFINITY,
        onProgress: (p) => progress.update(p),
      });
      progress.done();
      out.write(`${describeProgress(result)}\n\n`);
      const stats = service.pipeline.engine.stats();
      const active = service.store.listAlerts({ status: 'active', limit: 500 }).items;
      const bySeverity = new Map<string, number>();
      for (const a of active) bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1);
      const from = stats.maxEventTime === null ? null : formatRfc3339(Math.floor(stats.maxEventTime / 86_400_000) * 86_400_000 - 86_400_000);
      const to = stats.maxEventTime === null ? null : formatRfc3339(Math.ceil(stats.maxEventTime / 86_400_000) * 86_400_000);
      const range = from === null ? '' : `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to!)}&`;
      out.write(
        [
          `active alerts: ${active.length} (${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'})`,
          '',
          'where to look:',
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
