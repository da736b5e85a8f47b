/**
 * `promtool check metrics` (Prometheus' own linter, Debian's `prometheus` package, which
 * .ci/run installs) on /metrics after the demo stream was replayed into the service, so
 * every labelled series has samples. Under CI=true a missing promtool fails; elsewhere the
 * test is skipped with a loud message.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, post, startTestService, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const available = promtool.status === 0;
if (!available) {
  if (process.env.CI === 'true') throw new Error('CI=true and promtool is not installed (apt-get install prometheus; .ci/run does)');
  process.stderr.write('\n!!! promtool not found: the metrics lint test is SKIPPED (apt-get install prometheus)\n\n');
}

describe.skipIf(!available)('GET /metrics', () => {
  it('passes promtool check metrics after a replay', async () => {
    const { app } = await startTestService();
    const replay = await post(app, '/v1/events', { contentType: 'application/x-ndjson', body: readFileSync('demo/huitian-demo.ndjson', 'utf8') });
    expect(replay.status).toBe(202);
    expect(replay.json.accepted).toBeGreaterThan(1000);
    const items = (await call(app, 'GET', '/v1/alerts')).json.items as Array<{ id: string; status: string }>;
    const open = items.find((a) => a.status === 'open')!;
    expect((await post(app, `/v1/alerts/${open.id}/ack`, { body: { by: '值班员' } })).status).toBe(200);
    const text = (await call(app, 'GET', '/metrics')).body;
    for (const name of ['huitian_events_accepted_total', 'huitian_watermark_timestamp_seconds', 'huitian_kpi_sink_backlog_partials', 'huitian_http_request_duration_seconds_bucket', 'huitian_alerts']) {
      expect(text, name).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    }
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe('');
    expect(lint.status).toBe(0);
  });

  it('is the kind of check that fails on a gauge named like a counter', () => {
    const bad = '# HELP x_active_total Active things.\n# TYPE x_active_total gauge\nx_active_total 1\n';
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: bad, encoding: 'utf8' });
    expect(lint.status).not.toBe(0);
    expect(`${lint.stdout}${lint.stderr}`).toMatch(/non-counter metrics should not have "_total" suffix/);
  });
});
