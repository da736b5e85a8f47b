/**
 * Real Chromium for the console's tests: Debian's `chromium` (never a downloaded browser),
 * driven by playwright-core. Started with the flags that keep it from calling home
 * (background networking, component updates, sync), so the only requests are the page's.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildConsole } from '../../console/build.js';
import { tempDir } from './service.js';

export const CHROMIUM = process.env.HUITIAN_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--no-pings',
  '--metrics-recording-only',
];

/** Why the browser tests cannot run here, or null. Under CI=true they must run. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set HUITIAN_CHROMIUM); .ci/run installs it`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

let built: Promise<string> | undefined;

/** The console built from the current sources into a temporary directory, once per test file. */
export function builtConsole(): Promise<string> {
  built ??= (async () => {
    const dir = tempDir('huitian-console-');
    await buildConsole(dir);
    return dir;
  })();
  return built;
}
