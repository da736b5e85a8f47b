/**
 * The notification stage in a cluster (docs/cluster.md §10), pure: tasks' committed
 * transitions and watermarks as `G.global` records, the global task deciding from them.
 * A new owner that restores the stage's checkpoint and re-reads from its offset (with other
 * batch boundaries, and the tasks' re-read repeats in between) decides exactly the rest of
 * what one uninterrupted owner decided; silenced alerts are not notified; escalations name
 * the owning task.
 */
import { describe, expect, it } from 'vitest';
import { ClusterNotifications } from '../../src/cluster/cluster-notifications.js';
import { GlobalTask, type GlobalSnapshot } from '../../src/cluster/global-task.js';
import { COMMAND_HEADER, Task, type TaskRecord } from '../../src/cluster/task.js';
import { DEFAULT_RULES } from '../../src/alerts/rules-config.js';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/engine.js';
import { notificationsConfigSchema } from '../../src/notifications/notifications-config.js';
import type { Notification } from '../../src/notifications/stage.js';

const T = Date.parse('2026-07-21T08:00:00+08:00');
const config = notificationsConfigSchema.parse({
  receivers: { duty: { type: 'webhook', url: 'http://127.0.0.1:9/hook' } },
  routes: [
    { name: 'all', receivers: ['duty'], groupWaitSeconds: 0 },
    { name: 'oncall', receivers: ['duty'], escalationOnly: true },
  ],
  escalation: { red: { afterMinutes: 5, route: 'oncall' } },
});

const reading = (id: string, s: number, pointId: string, depthCm: number, district: string) =>
  JSON.stringify({ specversion: '1.0', id, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: new Date(T + s * 1000).toISOString(), data: { pointId, depthCm, district } });

/** The `G.global` records the runtime writes for a task's batch (cluster-runtime.ts applyTaskBatch). */
function stageRecords(task: Task, values: string[], offset: { n: number }): TaskRecord[] {
  const records: TaskRecord[] = values.map((v, i) => ({ offset: String(task.next + BigInt(i)), timestamp: String(T), value: Buffer.from(v) }));
  const out = task.process(records, 0);
  const log: TaskRecord[] = [];
  const push = (body: unknown) => log.push({ offset: String(offset.n++), timestamp: String(T), value: Buffer.from(JSON.stringify(body)) });
  for (const a of out.alerts) push({ kind: 'stage-alert', task: task.id, version: a.alert.history.length, action: a.action, alert: a.alert });
  push({ kind: 'stage-progress', task: task.id, watermark: task.engine.watermark });
  return log;
}

function globalLog(): TaskRecord[] {
  const cfg = { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' as const };
  const a = new Task('w-0', 'w', 0, cfg, 0n);
  const b = new Task('w-1', 'w', 1, cfg, 0n);
  const offset = { n: 0 };
  const log: TaskRecord[] = [];
  // A silence of 天通苑北街道 from the start, as an operator's command in G.global.
  log.push({
    offset: String(offset.n++),
    timestamp: String(T),
    headers: { [COMMAND_HEADER]: 'silence' },
    value: Buffer.from(JSON.stringify({ silence: { id: 'sil_1', matchers: { district: '天通苑北街道' }, startsAt: T - 3600_000, endsAt: T + 24 * 3600_000, comment: '检修', createdBy: 'local', createdAt: T } })),
  });
  for (let s = 0; s <= 1800; s += 60) {
    const depthA = s < 900 ? 60 : 2;
    const depthB = s < 600 ? 30 : 1;
    log.push(...stageRecords(a, [reading(`a${s}`, s, 'HLG-001', depthA, '回龙观街道')], offset));
    log.push(...stageRecords(b, [reading(`b${s}`, s, 'TTY-001', depthB, '天通苑北街道')], offset));
  }
  return log;
}

const ids = (ns: readonly Notification[]) => ns.map((n) => `${n.id} ${n.idempotencyKey} ${n.reason} ${n.items.map((i) => i.action).join(',')}`);

function process(task: GlobalTask, log: readonly TaskRecord[], batch: number): { notifications: Notification[]; annotations: Array<{ task: string; action: string }> } {
  const notifications: Notification[] = [];
  const annotations: Array<{ task: string; action: string }> = [];
  for (let i = 0; i < log.length; i += batch) {
    const out = task.process(log.slice(i, i + batch));
    notifications.push(...out.notify.notifications);
    annotations.push(...out.notify.annotations.map((a) => ({ task: a.task, action: a.entry.action })));
  }
  return { notifications, annotations };
}

describe('the notification stage of the global task', () => {
  it('notifies the routes, escalates to the owning task, and holds back what a silence matches', () => {
    const log = globalLog();
    const run = process(GlobalTask.restore(DEFAULT_RULES, [], null, 0n, undefined, 'Asia/Shanghai', config), log, 1000);
    const byAlert = new Map<string, string[]>();
    for (const n of run.notifications) for (const i of n.items) byAlert.set(i.alert.entityId, [...(byAlert.get(i.alert.entityId) ?? []), `${n.route}:${i.action}`]);
    expect(byAlert.get('HLG-001')).toEqual(['all:opened', 'oncall:escalated_to', 'all:resolved']);
    expect(byAlert.has('TTY-001')).toBe(false);
    expect(run.annotations).toEqual([
      { task: 'w-1', action: 'silenced' },
      { task: 'w-0', action: 'escalated_to' },
    ]);
    // One alert's notification is keyed by its id and version.
    for (const n of run.notifications) expect(n.idempotencyKey).toBe(`${n.items[0]!.alert.id}:${n.items[0]!.version}`);
  });

  it('decides after a handoff exactly the rest of what one owner decided: re-read from the checkpoint, other batches, repeats', () => {
    const log = globalLog();
    const whole = process(GlobalTask.restore(DEFAULT_RULES, [], null, 0n, undefined, 'Asia/Shanghai', config), log, 7);
    for (const k of [5, 23, 40, log.length - 3]) {
      const first = GlobalTask.restore(DEFAULT_RULES, [], null, 0n, undefined, 'Asia/Shanghai', config);
      const before = process(first, log.slice(0, k), 4);
      const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as GlobalSnapshot;
      const next = GlobalTask.restore(DEFAULT_RULES, [], snapshot, 0n, BigInt(k), 'Asia/Shanghai', config);
      // The group offset may be behind the checkpoint: records below it are skipped.
      const after = process(next, log.slice(Math.max(0, k - 6)), 3);
      expect(ids([...before.notifications, ...after.notifications])).toEqual(ids(whole.notifications));
    }
    // A task re-read after its takeover writes its transitions again: repeats change nothing.
    const repeats = log.filter((r) => JSON.parse(r.value!.toString()).kind === 'stage-alert').map((r, i) => ({ ...r, offset: String(log.length + i) }));
    const withRepeats = process(GlobalTask.restore(DEFAULT_RULES, [], null, 0n, undefined, 'Asia/Shanghai', config), [...log, ...repeats], 50);
    expect(ids(withRepeats.notifications)).toEqual(ids(whole.notifications));
  });

  it('keeps its clock at the lowest watermark of the tasks that have one, never going back', () => {
    const n = new ClusterNotifications(config);
    const out = { notifications: [], annotations: [], silences: [] };
    expect(n.clock()).toBe(Number.NEGATIVE_INFINITY);
    n.progress('a', T + 60_000, out);
    n.progress('b', T, out);
    expect(n.clock()).toBe(T);
    n.progress('b', T - 1000, out);
    expect(n.clock()).toBe(T);
    n.progress('b', T + 120_000, out);
    expect(n.clock()).toBe(T + 60_000);
  });

  it('an escalation sent to the owning task as a command is recorded once, however often it comes', () => {
    const task = new Task('w-0', 'w', 0, { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' }, 0n);
    const opened = task.process([{ offset: '0', timestamp: String(T), value: Buffer.from(reading('a0', 0, 'HLG-001', 60, '回龙观街道')) }], 0).alerts[0]!.alert;
    const entry = { at: T + 300_000, action: 'escalated_to', severity: opened.severity, by: 'escalation:red', route: 'oncall' };
    const command = (offset: number): TaskRecord => ({ offset: String(offset), timestamp: String(T), headers: { [COMMAND_HEADER]: 'annotate' }, value: Buffer.from(JSON.stringify({ alertId: opened.id, entry })) });
    const out = task.process([command(1), command(2)], 0);
    expect(out.alerts.map((a) => [a.action, a.alert.history.length])).toEqual([['escalated_to', 2]]);
    expect(task.engine.activeAlert(opened.id)!.history.map((h) => h.action)).toEqual(['opened', 'escalated_to']);
  });

  it('an entry that reaches the task after the alert resolved goes into a new version of the resolved alert, once, across a restore', () => {
    // A future bound of two days: one reading moves the stream a day on.
    const engineConfig = { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' as const, maxFutureMs: 2 * 24 * 3600_000 };
    const task = new Task('w-0', 'w', 0, engineConfig, 0n);
    const at = (offset: number, v: string): TaskRecord => ({ offset: String(offset), timestamp: String(T), value: Buffer.from(v) });
    const opened = task.process([at(0, reading('a0', 0, 'HLG-001', 60, '回龙观街道'))], 0).alerts[0]!.alert;
    const resolved = task.process([at(1, reading('a1', 600, 'HLG-001', 2, '回龙观街道'))], 0).alerts.find((a) => a.action === 'resolved')!.alert;
    expect(task.engine.activeAlert(opened.id)).toBeUndefined();
    // Decided at 5 min, behind the watermark, and arriving after the resolve at 10 min.
    const entry = { at: T + 300_000, action: 'escalated_to', severity: opened.severity, by: 'escalation:red', route: 'oncall' };
    const command = (offset: number): TaskRecord => ({ offset: String(offset), timestamp: String(T), headers: { [COMMAND_HEADER]: 'annotate' }, value: Buffer.from(JSON.stringify({ alertId: opened.id, entry })) });
    const out = task.process([command(2)], 0);
    expect(out.alerts).toHaveLength(1);
    const doc = out.alerts[0]!.alert;
    expect(out.alerts[0]!.action).toBe('escalated_to');
    expect(doc.status).toBe('resolved');
    expect(doc.resolvedAt).toBe(resolved.resolvedAt);
    // In time order, before the resolve; one version more than the resolved one.
    expect(doc.history.map((h) => h.action)).toEqual(['opened', 'escalated_to', 'unacknowledged', 'resolved']);
    expect(doc.history.length).toBe(resolved.history.length + 1);
    // A stage owner that took over sends it again: after a restore from the checkpoint, nothing new.
    const restored = new Task('w-0', 'w', 0, engineConfig, 0n, JSON.parse(JSON.stringify(task.snapshot())));
    expect(restored.process([command(3)], 0).alerts).toEqual([]);
    expect(task.process([command(3)], 0).alerts).toEqual([]);
    // Forgotten a day of event time after it resolved: an entry then changes nothing (the
    // watermark trails the newest event by the 60 s lateness).
    restored.process([at(4, reading('b0', 600 + 24 * 3600 + 61, 'HLG-002', 2, '回龙观街道'))], 0);
    expect(restored.engine.watermark).toBeGreaterThan(resolved.resolvedAt! + 24 * 3600_000);
    const later = { ...entry, at: T + 400_000, action: 'reminded' };
    const kept = new Task('w-0', 'w', 0, engineConfig, 0n, JSON.parse(JSON.stringify(task.snapshot())));
    expect(kept.process([{ ...command(150), value: Buffer.from(JSON.stringify({ alertId: opened.id, entry: later })) }], 0).alerts).toHaveLength(1);
    expect(restored.process([{ ...command(150), value: Buffer.from(JSON.stringify({ alertId: opened.id, entry: later })) }], 0).alerts).toEqual([]);
  });
});
