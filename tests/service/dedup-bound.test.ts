/**
 * The dedup memory bound (issue 9): memory grew with the rate, not with what was
 * configured. With HUITIAN_DEDUP_MAX_MB the remembered keys stay under the bound, the
 * oldest minute goes first, and a repeat of a forgotten event is refused as late — never
 * counted twice — all of it visible in /metrics.
 */
import { describe, expect, it } from 'vitest';
import { cloudEvent, T0 } from '../helpers/events.js';
import { get, postEvents, startTestService, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const reading = (minute: number, i: number) => ({
  ...cloudEvent('huitian.waterlogging.reading', `flood-${minute}-${String(i).padStart(6, '0')}`, 0, { pointId: `P${i % 50}`, depthCm: 3 }),
  time: new Date(T0 + minute * 60_000 + Math.floor((i * 59_000) / 6000)).toISOString(),
});

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

describe('dedup memory bound', () => {
  it('stays under HUITIAN_DEDUP_MAX_MB, forgets the oldest minute first, and refuses a repeat of it as late instead of counting it again', async () => {
    const { app, service } = await startTestService({ env: { HUITIAN_DEDUP_MAX_MB: '1' } });
    const max = 1024 * 1024;
    // 6,000 readings in minute 0, then 6,000 in minute 1: ~1.2 MB of keys, more than the bound.
    const minute0 = Array.from({ length: 6000 }, (_, i) => reading(0, i));
    for (let part = 0; part < 6000; part += 2000) expect((await postEvents(app, minute0.slice(part, part + 2000))).json.accepted).toBe(2000);
    const minute1 = Array.from({ length: 6000 }, (_, i) => reading(1, i));
    for (let part = 0; part < 6000; part += 2000) expect((await postEvents(app, minute1.slice(part, part + 2000))).json.accepted).toBe(2000);

    const stats = service.pipeline.engine.stats();
    expect(stats.dedupBytes).toBeLessThanOrEqual(max);
    expect(stats.dedupKeys).toBe(6000);
    expect(stats.dedupEvictedKeys).toBe(6000);
    // The watermark (newest − 60 s) has not passed the last reading of minute 0: without the
    // floor its repeat would count again.
    const last0 = minute0[5999]!;
    expect(Date.parse(last0.time)).toBeGreaterThanOrEqual(stats.watermark!);
    const r = await postEvents(app, [last0]);
    expect([r.status, r.json.errors]).toEqual([400, [{ index: 0, id: last0.id, reason: 'late' }]]);
    // Minute 1 is still remembered whole.
    expect((await postEvents(app, [minute1[0]!])).json).toMatchObject({ accepted: 0, duplicates: 1 });

    const text = (await get(app, '/metrics')).body;
    expect(metric(text, 'huitian_dedup_keys')).toBe(6000);
    expect(metric(text, 'huitian_dedup_max_bytes')).toBe(max);
    expect(metric(text, 'huitian_dedup_bytes')).toBeLessThanOrEqual(max);
    expect(metric(text, 'huitian_dedup_evicted_total')).toBe(6000);
    expect(metric(text, 'huitian_dedup_bound_late_total')).toBe(1);
  });

  it('keeps its floor across a restart', async () => {
    const env = { HUITIAN_DEDUP_MAX_MB: '1' };
    const a = await startTestService({ env });
    const events = [...Array.from({ length: 6000 }, (_, i) => reading(0, i)), ...Array.from({ length: 6000 }, (_, i) => reading(1, i))];
    await postEvents(a.app, events.slice(0, 6000));
    await postEvents(a.app, events.slice(6000));
    await a.stop();
    const b = await startTestService({ env, dataDir: a.dataDir });
    expect(b.service.pipeline.engine.stats()).toMatchObject({ dedupKeys: 6000, dedupEvictedKeys: 6000 });
    expect((await postEvents(b.app, [events[5999]!])).json.errors).toEqual([{ index: 0, id: events[5999]!.id, reason: 'late' }]);
  });
});
