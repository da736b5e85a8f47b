/**
 * `huitian demo` across restarts, as a newcomer meets it (issue 9): it says what it does
 * to the data before doing it, keeps a store that already holds the scenario (an
 * acknowledged alert stays acknowledged; no dead letters are added again), adds the
 * scenario to a store with other data without deleting anything, and starts over only
 * when asked (`--fresh`). It once wiped ./data/demo on every start without a word, and
 * with HUITIAN_DATA_DIR replayed into existing data, adding every invalid line again.
 */
import { describe, expect, it } from 'vitest';
import { startHuitian, useChildCleanup, waitForOutput, type Started } from '../helpers/cli-process.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();
useChildCleanup();

const READY = 'Ctrl-C stops the service.';

async function demo(dataDir: string, ...args: string[]): Promise<Started> {
  const s = await startHuitian(['demo', ...args], { HUITIAN_DATA_DIR: dataDir });
  await waitForOutput(s, READY);
  return s;
}

async function stop(s: Started): Promise<void> {
  s.child.kill('SIGINT');
  expect((await s.exited).code).toBe(0);
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const r = await fetch(url, init);
  return r.json();
}

async function deadLetterCount(base: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor: string | null } = await json(`${base}/v1/dead-letters?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`);
    n += page.items.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return n;
}

/**
 * It opens onto the operations console (issue 11): the console's URL is the first thing
 * printed after the banner and the page is served there; the URLs it suggests are over
 * local (Beijing) days and answer.
 */
async function expectConsoleFirst(s: Started): Promise<void> {
  const lines = s.output().split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  const banner = lines.indexOf('回天城市大脑 · huitian-brain demo');
  expect(lines[banner + 1]).toBe(`console: ${s.base}/console/`);
  const page = await fetch(`${s.base}/console/`);
  expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  const root = await fetch(`${s.base}/`, { redirect: 'manual' });
  expect([root.status, root.headers.get('location')]).toEqual([302, '/console/']);
  const coverage = /curl '([^']+fire_response_coverage_5min[^']+)'/.exec(s.output())![1]!;
  const query = new URL(coverage).searchParams;
  expect([query.get('from'), query.get('to')]).toEqual(['2026-07-20T00:00:00+08:00', '2026-07-22T00:00:00+08:00']);
  expect(((await json(coverage)) as { value: number | null }).value).not.toBeNull();
  expect(s.output()).toMatch(/event time 2026-07-21T07:59:58\+08:00/);
}

describe('huitian demo, started again', () => {
  it('keeps a store that already holds the scenario, and starts over only with --fresh', async () => {
    const dir = tempDir();
    const first = await demo(dir);
    expect(first.output()).toContain(`loading the demo scenario into a new store in ${dir}`);
    await expectConsoleFirst(first);
    const letters = await deadLetterCount(first.base);
    expect(letters).toBeGreaterThan(0);
    const alert = (await json(`${first.base}/v1/alerts?status=open&limit=1`)).items[0] as { id: string };
    const acked = await fetch(`${first.base}/v1/alerts/${alert.id}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: '值班员' }) });
    expect(acked.status).toBe(200);
    await stop(first);

    const second = await demo(dir);
    expect(second.output()).toMatch(new RegExp(`the demo scenario is already loaded in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(since .+\\): keeping it as it is`));
    expect(second.output()).toContain('npm run demo -- --fresh');
    expect(second.output()).not.toContain('sent ');
    expect(await deadLetterCount(second.base)).toBe(letters);
    expect((await json(`${second.base}/v1/alerts/${alert.id}`)).status).toBe('acknowledged');
    await stop(second);

    const fresh = await demo(dir, '--fresh');
    expect(fresh.output()).toContain(`--fresh: deleting the store in ${dir}`);
    expect(fresh.output()).toContain('loading the demo scenario into a new store');
    expect(await deadLetterCount(fresh.base)).toBe(letters);
    expect((await json(`${fresh.base}/v1/alerts/${alert.id}`)).status).toBe('open');
    await stop(fresh);
  });

  it('adds the scenario to a store with other data, deleting nothing, and says so first', async () => {
    const dir = tempDir();
    const serve = await startHuitian(['serve'], { HUITIAN_DATA_DIR: dir, HUITIAN_TIME_MODE: 'replay' });
    const posted = await fetch(`${serve.base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      // An hour before the scenario starts, so the scenario moves event time past it.
      body: JSON.stringify(waterlogging('mine-1', -3 * 3600, 'MY-POINT', 3, HLG)),
    });
    expect(posted.status).toBe(202);
    await stop(serve);

    const s = await demo(dir);
    const out = s.output();
    expect(out).toContain(`${dir} already holds other data (1 events): adding the demo scenario to it, deleting nothing`);
    expect(out.indexOf('already holds other data')).toBeLessThan(out.indexOf('sent '));
    const mine = await json(`${s.base}/v1/kpis/waterlogging_max_depth_cm?from=2026-07-20T00:00:00Z&to=2026-07-22T00:00:00Z&groupBy=point`);
    expect(mine.groups.map((g: { key: { point: string } }) => g.key.point)).toContain('MY-POINT');
    await stop(s);
  });
});
