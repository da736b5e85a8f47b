/**
 * `npm run screenshot`: the picture of the console in the README (docs/console.png), taken
 * during the demo. Starts `huitian demo` on a free port with its own data directory, waits
 * for its replay to finish, opens the console URL it prints in Debian's Chromium, sends one
 * more reading (a red waterlogging alert arrives live), and saves the screen. Chinese text needs a CJK font on the
 * machine (e.g. apt-get install fonts-wqy-microhei).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tests/helpers/browser.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = process.argv[2] ?? join(ROOT, 'docs', 'console.png');

const dataDir = mkdtempSync(join(tmpdir(), 'huitian-screenshot-'));
const demo = spawn(process.execPath, ['--max-semi-space-size=64', join(ROOT, 'bin', 'huitian.js'), 'demo', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let stdout = '';
const consoleUrl = await new Promise<string>((resolve, reject) => {
  demo.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const url = /console: (\S+)/.exec(stdout)?.[1];
    // The summary ends with the Ctrl-C line once the replay is in.
    if (url !== undefined && stdout.includes('Ctrl-C')) resolve(url);
  });
  demo.on('exit', (code) => reject(new Error(`huitian demo exited with ${code}:\n${stdout}`)));
});
process.stdout.write(stdout);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 960 }, deviceScaleFactor: 1 });
  await page.goto(consoleUrl);
  await page.waitForSelector('[data-testid=stream-state].ok');
  await page.waitForSelector('[data-testid=tile-fire_response_coverage_5min][data-value]:not([data-value=""])');
  // The replayed morning ends with its red alerts resolved; one more reading arrives live,
  // as during a shift, and the console raises it (the banner and flash in the picture).
  const base = new URL(consoleUrl).origin;
  const reading = {
    specversion: '1.0',
    id: 'screenshot-WL-01',
    source: '/sensors/waterlogging',
    type: 'huitian.waterlogging.reading',
    time: '2026-07-21T08:00:30+08:00',
    data: { pointId: 'WL-01', depthCm: 46, district: '龙泽园街道', name: '京藏高速辅路回龙观桥下' },
  };
  const posted = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(reading) });
  if (posted.status !== 202) throw new Error(`posting the live reading: ${posted.status} ${await posted.text()}`);
  await page.waitForSelector('[data-testid=alert-row][data-severity=red]');
  // Let the map and the charts finish drawing.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: OUT });
  process.stdout.write(`wrote ${OUT}\n`);
} finally {
  await browser.close();
  demo.kill('SIGINT');
  await new Promise((r) => demo.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
