import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fluxFiles, renderReadme } from '../scripts/generate-docs.js';
import { DASHBOARD_FILE, FLUX_DIR, grafanaDashboardJson } from '../scripts/grafana-dashboard.js';

describe('README.md', () => {
  it('has the configuration, error and metric tables generated from the code (run `npm run docs`)', async () => {
    const text = readFileSync('README.md', 'utf8');
    expect(await renderReadme(text)).toBe(text);
  });

  it('starts with the two commands of the quick start', () => {
    const text = readFileSync('README.md', 'utf8');
    const quickStart = text.slice(text.indexOf('## Quick start'));
    expect(quickStart).toMatch(/```sh\nnpm ci && npm run demo\nnpm test\n```/);
  });

  it('shows every dashboard Flux file, as the file says (tests/integration/flux-queries.test.ts runs them)', () => {
    const text = readFileSync('README.md', 'utf8');
    expect(fluxFiles().length).toBeGreaterThanOrEqual(6);
    for (const f of fluxFiles()) expect(text, f).toContain(`\`\`\`flux\n${readFileSync(`${FLUX_DIR}/${f}`, 'utf8').trimEnd()}\n\`\`\``);
  });
});

describe('the Grafana dashboard', () => {
  it('is built from the Flux files (run `npm run docs`)', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8')).toBe(grafanaDashboardJson());
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Array<{ targets: Array<{ query?: string; expr?: string }> }> };
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.query ?? t.expr));
    for (const f of fluxFiles()) expect(queries, f).toContain(readFileSync(`${FLUX_DIR}/${f}`, 'utf8'));
    expect(queries).toContain('sum by (severity) (huitian_alerts{status=~"open|acknowledged"})');
  });
});
