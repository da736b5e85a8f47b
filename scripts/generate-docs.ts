/**
 * Regenerates the README sections that are derived from code: the configuration table
 * (from CONFIG_FIELDS), the error code table (from ERROR_CODES), the metric table, and
 * the dashboard Flux queries (dashboards/flux/*.flux, which an integration test runs); and
 * the Grafana dashboard built from the same Flux files. `npm run docs`; tests/docs.test.ts
 * fails when README.md or the dashboard drifts from them.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DASHBOARD_FILE, FLUX_DIR, grafanaDashboardJson } from './grafana-dashboard.js';
import { configTableMarkdown } from '../src/config.js';
import { errorTableMarkdown } from '../src/errors.js';
import { metricsTableMarkdown } from '../src/metrics.js';

export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} section`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

/** A file shown in the README as it is (the tests load and run the same file). */
function fenced(file: string, lang: string): string {
  return `\`\`\`${lang}\n${readFileSync(file, 'utf8').trimEnd()}\n\`\`\``;
}

export async function renderReadme(text: string): Promise<string> {
  let out = replaceSection(replaceSection(text, 'config-table', configTableMarkdown()), 'error-table', errorTableMarkdown());
  out = replaceSection(out, 'notifications-example', fenced('docs/examples/notifications.json', 'json'));
  out = replaceSection(out, 'verify-signature', fenced('docs/examples/verify-signature.mjs', 'js'));
  out = replaceSection(out, 'metrics-table', await metricsTableMarkdown());
  for (const file of fluxFiles()) out = replaceSection(out, `flux:${file}`, fenced(`${FLUX_DIR}/${file}`, 'flux'));
  return out;
}

export function fluxFiles(): string[] {
  return readdirSync(FLUX_DIR)
    .filter((f) => f.endsWith('.flux'))
    .sort();
}

if (process.argv[1]?.endsWith('generate-docs.ts')) {
  const text = readFileSync('README.md', 'utf8');
  writeFileSync('README.md', await renderReadme(text));
  writeFileSync(DASHBOARD_FILE, grafanaDashboardJson());
}
