/**
 * The operations console in a real Chromium against the real service on 127.0.0.1:
 * nothing is requested from anywhere else; an alert posted over HTTP appears without a
 * reload within 2 s; acknowledging it with the button records the token's name; the
 * coverage tile shows what the API answers; the English switch changes the titles; a
 * viewer sees no action buttons; the token lives in sessionStorage only.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRE_FIXTURE } from '../fixtures/fire-response-small.js';
import { browserUnavailable, builtConsole, launchChromium } from '../helpers/browser.js';
import { startTestService, useServiceCleanup, type TestService } from '../helpers/service.js';

// One service for the file: the tests build on each other's alerts, as a shift would.
useServiceCleanup('file');

const TOKENS = {
  operator: 'op-token-zhang-0001',
  viewer: 'viewer-token-screen-01',
  ingest: 'ingest-token-000001',
};
const HUITIAN_TOKENS = [`operator:值班员张伟:${TOKENS.operator}`, `viewer:运营大屏:${TOKENS.viewer}`, `ingest:${TOKENS.ingest}`].join(',');

const unavailable = browserUnavailable();
if (unavailable !== null) {
  if (process.env.CI === 'true') throw new Error(`browser tests cannot run: ${unavailable}`);
  console.warn(`\n*** SKIPPING the browser tests: ${unavailable} ***\n`);
}

let browser: Browser;
let ts: TestService;
let base: string;
/** Every URL any page asked for, allowed or not. */
const requested: string[] = [];
let seq = 0;

async function newContext(service = () => base): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'Europe/London' });
  // Anything not for the service is refused (and recorded, so the test below sees it).
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requested.push(url);
    return url.startsWith(`${service()}/`) ? route.continue() : route.abort('blockedbyclient');
  });
  return context;
}

/** Counts the alarm's tones: every oscillator the page creates (Web Audio has no other sound here). */
const COUNT_TONES = `(() => {
  window.__tones = 0;
  const create = BaseAudioContext.prototype.createOscillator;
  BaseAudioContext.prototype.createOscillator = function () { window.__tones++; return create.call(this); };
})()`;

// Waits poll with expect.poll, not page.waitForFunction: Playwright polls a function with eval,
// which the page's own CSP (script-src 'self') refuses — and the page is tested under its real CSP.
async function signIn(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(COUNT_TONES);
  await page.goto(`${base}/`);
  expect(page.url()).toBe(`${base}/console/`);
  await page.fill('[data-testid=token]', token);
  await page.click('[data-testid=sign-in]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('[data-testid=stream-state].ok');
  return page;
}

async function api(method: 'GET' | 'POST', path: string, token: string, body?: string, contentType = 'application/json') {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

function reading(pointId: string, depthCm: number, minute: number, district = '回龙观街道') {
  seq++;
  return JSON.stringify({
    specversion: '1.0',
    id: `browser-${seq}`,
    source: '/sensors/waterlogging',
    type: 'huitian.waterlogging.reading',
    time: `2026-07-21T09:${String(minute).padStart(2, '0')}:00+08:00`,
    data: { pointId, depthCm, district },
  });
}

async function postEvents(lines: string[]) {
  const r = await api('POST', '/v1/events', TOKENS.ingest, `${lines.join('\n')}\n`, 'application/x-ndjson');
  expect(r.status).toBe(202);
  return r.json;
}

async function alertOf(entityId: string) {
  const r = await api('GET', `/v1/alerts?entityId=${encodeURIComponent(entityId)}`, TOKENS.viewer);
  return r.json.items[0] as { id: string; status: string; severity: string; titleEn: string; title: string; value: number; peakValue: number | null; peakAt: string | null; history: Array<{ by: string; note?: string; action: string; wallClockAt?: string }> };
}

describe.skipIf(unavailable !== null)('operations console in Chromium', () => {
  beforeAll(async () => {
    const consoleDir = await builtConsole();
    ts = await startTestService({ env: { HUITIAN_TOKENS }, consoleDir });
    base = await ts.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    // The fire fixture gives the coverage tile something to show (3 of 5 covered).
    const fire = readFileSync(FIRE_FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
    expect((await postEvents(fire)).accepted).toBe(fire.length);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('redirects / to the console and asks for a token, kept in sessionStorage only', async () => {
    const context = await newContext();
    const page = await context.newPage();
    const answer = await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/console/`);
    expect(answer?.headers()['content-security-policy']).toContain("connect-src 'self'");
    await page.waitForSelector('[data-testid=token]');
    await page.fill('[data-testid=token]', 'not-a-token-at-all');
    await page.click('[data-testid=sign-in]');
    await page.waitForSelector('[data-testid=signin-error]');
    await page.fill('[data-testid=token]', TOKENS.operator);
    await page.click('[data-testid=sign-in]');
    await page.waitForSelector('[data-testid=who]');
    expect(await page.textContent('[data-testid=who]')).toBe('值班员张伟');
    const storage = (await page.evaluate('({ session: { ...sessionStorage }, local: { ...localStorage } })')) as { session: Record<string, string>; local: Record<string, string> };
    expect(Object.values(storage.session)).toContain(TOKENS.operator);
    expect(JSON.stringify(storage.local)).not.toContain(TOKENS.operator);
    // A reload keeps the session; a new browser session (context) asks again.
    await page.reload();
    await page.waitForSelector('[data-testid=who]');
    const fresh = await (await newContext()).newPage();
    await fresh.goto(`${base}/console/`);
    await fresh.waitForSelector('[data-testid=token]');
    await context.close();
  });

  it('shows an alert posted over HTTP within 2 s, without a reload, and flashes a red one', async () => {
    const context = await newContext();
    const page = await signIn(context, TOKENS.operator);
    let reloaded = false;
    page.on('framenavigated', () => (reloaded = true));
    const started = Date.now();
    await postEvents([reading('BR-RED', 46, 0)]);
    const alert = await alertOf('BR-RED');
    await page.waitForSelector(`[data-alert-id="${alert.id}"]`, { timeout: 2000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2000);
    expect(reloaded).toBe(false);
    expect(await page.getAttribute(`[data-alert-id="${alert.id}"]`, 'data-severity')).toBe('red');
    expect(await page.textContent(`[data-alert-id="${alert.id}"] [data-testid=alert-title]`)).toBe(alert.title);
    // Impossible to miss: the banner names it and the screen edge flashes.
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner')).toContain(alert.title);
    expect(await page.evaluate("document.documentElement.classList.contains('flash')")).toBe(true);
    await context.close();
  });

  it('acknowledges with the button: the API shows it acknowledged by the token’s name', async () => {
    await postEvents([reading('BR-ACK', 20, 1)]);
    const alert = await alertOf('BR-ACK');
    const context = await newContext();
    const page = await signIn(context, TOKENS.operator);
    await page.click(`[data-alert-id="${alert.id}"]`);
    await page.waitForSelector('[data-testid=detail] [data-testid=ack]');
    await page.fill('[data-testid=action-note]', '已派排水车');
    await page.click('[data-testid=ack]');
    await expect.poll(() => page.textContent('[data-testid=detail-status]'), { timeout: 2000 }).toBe('已确认');
    const after = await alertOf('BR-ACK');
    expect(after.status).toBe('acknowledged');
    expect(after.history.at(-1)).toMatchObject({ action: 'acknowledged', by: '值班员张伟', note: '已派排水车' });
    expect(after.history.at(-1)!.wallClockAt).toMatch(/\+08:00$/);
    // The list follows without a reload, and the detail shows who did it.
    await page.waitForSelector(`[data-alert-id="${alert.id}"][data-status=acknowledged]`, { timeout: 2000 });
    expect(await page.textContent('[data-testid=history]')).toContain('值班员张伟');
    await context.close();
  });

  it('resolves with the button and a note: the API shows it resolved by the token’s name, the list drops it', async () => {
    const alert = await alertOf('BR-ACK');
    expect(alert.status).toBe('acknowledged');
    const context = await newContext();
    const page = await signIn(context, TOKENS.operator);
    await page.click(`[data-alert-id="${alert.id}"]`);
    await page.waitForSelector('[data-testid=detail] [data-testid=resolve]');
    // Acknowledged already: only resolve is offered.
    expect(await page.locator('[data-testid=ack]').count()).toBe(0);
    await page.fill('[data-testid=action-note]', '积水已排除');
    await page.click('[data-testid=resolve]');
    await expect.poll(() => page.textContent('[data-testid=detail-status]'), { timeout: 2000 }).toBe('已解除');
    const after = await alertOf('BR-ACK');
    expect(after.status).toBe('resolved');
    expect(after.history.at(-1)).toMatchObject({ action: 'resolved', by: '值班员张伟', note: '积水已排除' });
    expect(await page.locator('[data-testid=resolve]').count()).toBe(0);
    // The default filter shows what is not resolved.
    await page.click('[data-testid=detail-close]');
    await expect.poll(() => page.locator(`[data-alert-id="${alert.id}"]`).count(), { timeout: 2000 }).toBe(0);
    await context.close();
  });

  it('sounds the alarm for a new red alert, and only flashes once muted', async () => {
    const context = await newContext();
    const page = await signIn(context, TOKENS.operator);
    const tones = () => page.evaluate('window.__tones') as Promise<number>;
    const pressed = () => page.getAttribute('[data-testid=mute]', 'aria-pressed');
    expect(await pressed()).toBe('false');
    await postEvents([reading('BR-LOUD', 48, 3)]);
    const loud = await alertOf('BR-LOUD');
    await page.waitForSelector(`[data-alert-id="${loud.id}"]`, { timeout: 2000 });
    // Three rounds of two tones.
    await expect.poll(tones, { timeout: 2000 }).toBe(6);

    await page.click('[data-testid=mute]');
    await expect.poll(pressed).toBe('true');
    expect(await page.textContent('[data-testid=mute]')).toBe('取消静音');
    await postEvents([reading('BR-QUIET', 47, 4)]);
    const quiet = await alertOf('BR-QUIET');
    await page.waitForSelector(`[data-alert-id="${quiet.id}"]`, { timeout: 2000 });
    await expect.poll(() => page.textContent('#banner'), { timeout: 2000 }).toContain(quiet.title);
    expect(await tones()).toBe(6);
    // Muting is remembered: a reload stays silent.
    await page.reload();
    await page.waitForSelector('[data-testid=stream-state].ok');
    await expect.poll(pressed).toBe('true');
    await context.close();
  });

  it('opens an alert by a click on its mark on the map', async () => {
    // WL-01 is a reference point (京藏高速辅路回龙观桥下), so the map draws it.
    await postEvents([reading('WL-01', 44, 4, '龙泽园街道')]);
    const alert = await alertOf('WL-01');
    expect(alert.severity).toBe('red');
    const context = await newContext();
    const page = await signIn(context, TOKENS.viewer);
    const spot = async () => JSON.parse((await page.getAttribute('[data-testid=map]', 'data-alert-spots')) ?? '{}')[alert.id] as [number, number] | undefined;
    await expect.poll(spot, { timeout: 5000 }).toBeDefined();
    const [x, y] = (await spot())!;
    expect(await page.locator('[data-testid=detail]').isHidden()).toBe(true);
    await page.click('[data-testid=map]', { position: { x, y } });
    await expect.poll(() => page.textContent('[data-testid=detail-title]'), { timeout: 2000 }).toBe(alert.title);
    await context.close();
  });

  it('shows the coverage the API answers on its tile, and opens its rolling series', async () => {
    const context = await newContext();
    const page = await signIn(context, TOKENS.viewer);
    const answer = await api('GET', '/v1/kpis/fire_response_coverage_5min?groupBy=district', TOKENS.viewer);
    expect(answer.json.value).toBe(0.6);
    const tile = '[data-testid=tile-fire_response_coverage_5min]';
    await page.waitForSelector(`${tile}[data-value="${answer.json.value}"]`);
    expect(await page.textContent(`${tile} [data-testid=tile-value]`)).toBe('60.0%');
    expect(await page.getAttribute(tile, 'class')).toContain('missed');
    // Freshness: the watermark /v1/status answers, in Beijing time although the browser is in London.
    const status = await api('GET', '/v1/status', TOKENS.viewer);
    expect(status.json.watermark).toMatch(/\+08:00$/);
    await expect.poll(() => page.textContent('[data-testid=watermark] b'), { timeout: 6000 }).toBe(status.json.watermark.slice(0, 19).replace('T', ' '));
    await page.click(tile);
    await page.waitForSelector('#series[open] [data-testid=series-chart] canvas');
    await context.close();
  });

  it('switches to English with one click: titles and alert texts change', async () => {
    const context = await newContext();
    const page = await signIn(context, TOKENS.viewer);
    const alert = await alertOf('BR-RED');
    const tileTitle = '[data-testid=tile-fire_response_coverage_5min] [data-testid=tile-title]';
    await page.waitForSelector(tileTitle);
    expect(await page.textContent(tileTitle)).toBe('消防救援 5 分钟响应时间覆盖率');
    expect(await page.textContent('h2[data-word=alerts]')).toBe('实时告警');
    await page.click('[data-testid=lang]');
    await expect.poll(() => page.textContent('h2[data-word=alerts]'), { timeout: 2000 }).toBe('Live alerts');
    expect(await page.textContent(tileTitle)).toBe('Fire and rescue 5-minute response coverage');
    expect(await page.textContent(`[data-alert-id="${alert.id}"] [data-testid=alert-title]`)).toBe(alert.titleEn);
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    await context.close();
  });

  it('gives a viewer no action buttons', async () => {
    // Minutes after the alarm test's: the watermark has moved on.
    await postEvents([reading('BR-VIEW', 30, 5), reading('BR-VIEW', 25, 6)]);
    const alert = await alertOf('BR-VIEW');
    expect([alert.value, alert.peakValue]).toEqual([25, 30]);
    const context = await newContext();
    const page = await signIn(context, TOKENS.viewer);
    await page.click(`[data-alert-id="${alert.id}"]`);
    await page.waitForSelector('[data-testid=detail] [data-testid=history]');
    expect(await page.textContent('[data-testid=detail-value]')).toBe(`${alert.value} cm`);
    expect(await page.textContent('[data-testid=detail-peak]')).toContain(`${alert.peakValue} cm`);
    expect(await page.locator('[data-testid=ack]').count()).toBe(0);
    expect(await page.locator('[data-testid=resolve]').count()).toBe(0);
    expect(await page.locator('[data-testid=action-note]').count()).toBe(0);
    expect(await page.textContent('.who .role')).toContain('viewer');
    await context.close();
  });

  it('opens directly, with no sign-in, when tokens are off (loopback)', async () => {
    const open = await startTestService({ consoleDir: await builtConsole() });
    const openBase = await open.app.listen({ host: '127.0.0.1', port: 0 });
    const context = await newContext(() => openBase);
    const page = await context.newPage();
    await page.goto(`${openBase}/`);
    expect(page.url()).toBe(`${openBase}/console/`);
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('[data-testid=stream-state].ok');
    expect(await page.locator('[data-testid=token]').count()).toBe(0);
    expect(await page.textContent('#who')).toContain('未启用认证');
    await context.close();
  });

  it('asked nothing of any host but the service on 127.0.0.1', () => {
    expect(requested.length).toBeGreaterThan(20);
    expect(requested.filter((u) => !/^http:\/\/127\.0\.0\.1:\d+\//.test(u))).toEqual([]);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
