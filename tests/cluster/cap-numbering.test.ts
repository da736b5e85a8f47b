/**
 * CAP identifiers in a cluster (docs/cluster.md §10), pure: the global task numbers each
 * alert version it meets in `G.global`'s order. A restored owner re-reading from its
 * checkpoint with other batch boundaries and the tasks' repeats numbers exactly as one
 * uninterrupted owner; the identifiers are unique and one second's are 0, 1, 2…; the store of
 * a cluster instance renders only what was mirrored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAP_MEMORY_MS, CapNumbering, type CapAssignment } from '../../src/cluster/cap-numbering.js';
import type { Alert } from '../../src/alerts/alert.js';
import { capMessage, applyNotificationRecords } from '../../src/cluster/cluster-outbox.js';
import { GlobalTask, type GlobalSnapshot } from '../../src/cluster/global-task.js';
import { Task, type TaskRecord } from '../../src/cluster/task.js';
import { DEFAULT_RULES } from '../../src/alerts/rules-config.js';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/engine.js';
import { notificationsConfigSchema, DEFAULT_NOTIFICATIONS, type NotificationsConfig } from '../../src/notifications/notifications-config.js';
import { capRenderer } from '../../src/delivery/cap-render.js';
import { openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { HuitianError } from '../../src/errors.js';

const T = Date.parse('2026-07-21T08:00:00+08:00');
const routed = notificationsConfigSchema.parse({
  receivers: { duty: { type: 'cap', url: 'http://127.0.0.1:9/cap' } },
  routes: [
    { name: 'all', receivers: ['duty'], groupWaitSeconds: 0 },
    { name: 'oncall', receivers: ['duty'], escalationOnly: true },
  ],
  escalation: { red: { afterMinutes: 5, route: 'oncall' } },
});

const reading = (id: string, s: number, pointId: string, depthCm: number) =>
  JSON.stringify({ specversion: '1.0', id, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: new Date(T + s * 1000).toISOString(), data: { pointId, depthCm, district: '回龙观街道' } });

/** Three tasks, three points each: nine alerts opened in the same second, resolved in others. */
function globalLog(withProgress: boolean): { log: TaskRecord[]; repeats: TaskRecord[] } {
  const cfg = { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' as const };
  const tasks = [0, 1, 2].map((p) => new Task(`w-${p}`, 'w', p, cfg, 0n));
  const log: TaskRecord[] = [];
  const repeats: TaskRecord[] = [];
  for (let s = 0; s <= 1500; s += 60) {
    for (const [p, task] of tasks.entries()) {
      const values = [0, 1, 2].map((i) => reading(`e${p}-${i}-${s}`, s + (s >= 600 ? p : 0), `HLG-${p}${i}`, s < 600 + 120 * i ? 60 - 10 * i : 2));
      const records: TaskRecord[] = values.map((v, i) => ({ offset: String(task.next + BigInt(i)), timestamp: String(T), value: Buffer.from(v) }));
      const out = task.process(records, 0);
      for (const a of out.alerts) {
        const body = { kind: 'stage-alert', task: task.id, version: a.alert.history.length, action: a.action, alert: a.alert };
        log.push({ offset: '', timestamp: String(T), value: Buffer.from(JSON.stringify(body)) });
        repeats.push(log[log.length - 1]!);
      }
      if (withProgress) log.push({ offset: '', timestamp: String(T), value: Buffer.from(JSON.stringify({ kind: 'stage-progress', task: task.id, watermark: task.engine.watermark })) });
    }
  }
  return { log: log.map((r, i) => ({ ...r, offset: String(i) })), repeats };
}

const key = (c: CapAssignment) => `c|${c.alertId}|${c.version}`;

function run(task: GlobalTask, log: readonly TaskRecord[], batch: number): CapAssignment[] {
  const cap: CapAssignment[] = [];
  for (let i = 0; i < log.length; i += batch) cap.push(...task.process(log.slice(i, i + batch)).cap);
  return cap;
}

const fresh = (config: NotificationsConfig) => GlobalTask.restore(DEFAULT_RULES, [], null, 0n, undefined, 'Asia/Shanghai', config);

describe('CAP identifiers numbered by the global task', () => {
  for (const [name, config, withProgress] of [
    ['with notification routes', routed, true],
    ['without routes (transitions only)', DEFAULT_NOTIFICATIONS, false],
  ] as const) {
    it(`${name}: unique, one second's numbered 0, 1, 2…, and the same after a handoff, other batches and repeats`, () => {
      const { log, repeats } = globalLog(withProgress);
      const whole = run(fresh(config), log, 7);
      expect(whole.length).toBeGreaterThanOrEqual(18);
      const identifiers = whole.map((c) => c.identifier);
      expect(new Set(identifiers).size).toBe(identifiers.length);
      expect(new Set(whole.map(key)).size).toBe(whole.length);
      const perSecond = new Map<number, number[]>();
      for (const c of whole) perSecond.set(c.sent, [...(perSecond.get(c.sent) ?? []), Number(c.identifier.split('_')[2])]);
      for (const ns of perSecond.values()) expect(ns).toEqual(ns.map((_, i) => i));
      // Nine alerts opened in the first second.
      expect(perSecond.get(T)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(identifiers[0]).toBe(`${config.cap.issuerCode}_20260721080000_0`);
      // A resolved version references the alert's opened one.
      const byKey = new Map(whole.map((c) => [key(c), c]));
      for (const c of whole) if (c.version > 1) expect(c.previous).not.toBeNull();

      for (const k of [4, 17, 30, log.length - 2]) {
        // The old owner checkpoints at k, writes on to k + 9 and is killed; the new owner
        // restores the checkpoint and re-reads from a group offset a little behind it.
        const first = fresh(config);
        const written = run(first, log.slice(0, k), 4);
        const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as GlobalSnapshot;
        written.push(...run(first, log.slice(k, k + 9), 5));
        const next = GlobalTask.restore(DEFAULT_RULES, [], snapshot, 0n, BigInt(k), 'Asia/Shanghai', config);
        const after = run(next, log.slice(Math.max(0, k - 6)), 3);
        // The compacted topic: a key written twice must carry the same value both times.
        const topic = new Map<string, CapAssignment>();
        for (const c of [...written, ...after]) {
          const had = topic.get(key(c));
          if (had !== undefined) expect(c).toEqual(had);
          topic.set(key(c), c);
        }
        expect(topic).toEqual(byKey);
      }

      // A task re-read after its takeover writes its transitions again, in the middle.
      const middle = Math.floor(log.length / 2);
      const again = [...log.slice(0, middle), ...repeats.slice(0, 12), ...log.slice(middle)].map((r, i) => ({ ...r, offset: String(i) }));
      expect(run(fresh(config), again, 11)).toEqual(whole);
    });
  }

  it('forgets seconds and alerts 7 days of stream time behind the newest, the same way after a restore', () => {
    const alert = (id: string, at: number, versions = 1) => ({ id, openedAt: at, history: Array.from({ length: versions }, () => ({ at })) }) as unknown as Alert;
    const steps: Array<[string, number, number]> = [];
    for (let d = 0; d < 10; d++) for (let i = 0; i < 3; i++) steps.push([`a${i}`, T + d * 86_400_000, d + 1], [`b${d}-${i}`, T + d * 86_400_000, 1]);
    const numberAll = (n: CapNumbering, list: typeof steps) => list.map(([id, at, v]) => n.number(alert(id, at, v), v)?.identifier ?? null);
    const whole = numberAll(new CapNumbering('11011400000000'), steps);
    for (const k of [7, 31, 50]) {
      const first = new CapNumbering('11011400000000');
      const before = numberAll(first, steps.slice(0, k));
      const restored = new CapNumbering('11011400000000', JSON.parse(JSON.stringify(first.snapshot())));
      expect([...before, ...numberAll(restored, steps.slice(k))]).toEqual(whole);
    }
    const n = new CapNumbering('11011400000000');
    numberAll(n, steps);
    const snap = n.snapshot();
    // Days 0 and 1 are more than 7 days behind day 9: their counts and alerts are forgotten.
    expect(snap.seconds.map(([s]) => (s - T) / 86_400_000)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(snap.seconds.every(([, count]) => count === 6)).toBe(true);
    expect(snap.alerts.map(([id]) => id).filter((id) => id.startsWith('b0') || id.startsWith('b1'))).toEqual([]);
    expect(snap.alerts).toHaveLength(3 + 8 * 3);
    expect(new Set(whole).size).toBe(whole.length);
    expect(snap.newest - CAP_MEMORY_MS).toBe(T + 2 * 86_400_000);
    // A version of an alert kept references its previous one.
    expect(n.find('a0', 10)?.previous?.identifier).toBe(n.find('a0', 9)?.message.identifier);
  });

  it('a cluster instance renders the mirrored number and refuses a version not numbered yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capid-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const store = new EmbeddedStore(openDatabase(dir));
    store.capNumbering = false;
    const { log } = globalLog(true);
    const task = fresh(routed);
    const out = task.process(log);
    const stageAlert = JSON.parse(log[0]!.value!.toString()) as { alert: Parameters<EmbeddedStore['capNumberOf']>[0] };
    const render = capRenderer(store, routed.cap, 'Actual');
    expect(() => render(stageAlert.alert)).toThrow(HuitianError);
    try {
      render(stageAlert.alert);
    } catch (err) {
      expect((err as HuitianError).code).toBe('CAP_NOT_NUMBERED');
    }
    // The alert view's writes give no number in cluster mode.
    store.commit({ log: null, partials: [], alerts: [{ action: 'opened', alert: stageAlert.alert }], deadLetters: [] });
    expect(store.capNumberOf(stageAlert.alert)).toBeUndefined();
    applyNotificationRecords(store, out.cap.map((c) => capMessage(c)).map((m) => ({ value: Buffer.from(m.value as string) })));
    const first = out.cap[0]!;
    expect(render(stageAlert.alert)).toContain(`<identifier>${first.identifier}</identifier>`);
    const resolved = out.cap.find((c) => c.alertId === first.alertId && c.version > 1)!;
    expect(store.capNumberOf({ ...stageAlert.alert, history: new Array(resolved.version).fill(stageAlert.alert.history[0]) })).toEqual({
      message: { version: resolved.version, identifier: resolved.identifier, sent: resolved.sent },
      previous: { identifier: first.identifier, sent: first.sent },
    });
  });
});
