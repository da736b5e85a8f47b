/**
 * Alert notifications in cluster mode, **live** (the production setting; docs/cluster.md §10):
 * three members on the real Kafka, readings stamped with the wall clock, a webhook route and
 * an escalation policy of 20 s. Once the readings turn red, no more are produced: the policy's
 * escalation is due only because time passes, which in a cluster means each idle task's tick
 * (a command on its own partition), its watermark in `G.global`, and the stage's clock
 * taken from them. The owner of the global stage is SIGKILLed in that quiet stretch, so the
 * escalations are decided by whichever member restores the stage, from the ticks alone.
 *
 * At the end every selected transition (opened, escalated, the escalation, resolved) of every
 * alert outside the silence was delivered at least once, the escalations before any reading
 * after the red ones; a repeat is the same delivery (same key, same body); nothing was sent
 * for the silenced alerts; each survivor lists every delivery as delivered.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliveredOnEverySurvivor, expectRepeatsIdentical, NotificationSetting, receivedDeliveries, stageEntriesInEveryView, transitionsOf, waitForTransitions } from './cluster-deliveries.js';
import type { AlertRow, Member } from './cluster-helpers.js';
import { sendByTopic, uniqueSuffix, waitFor, type TopicMessage } from './helpers.js';

const services = inject('services');
const HLG = '回龙观街道';
const TTYN = '天通苑北街道';
const NOTIFIED = Array.from({ length: 8 }, (_, i) => `HLG-${String(i + 1).padStart(3, '0')}`);
const SILENCED = Array.from({ length: 3 }, (_, i) => `TTY-${String(i + 1).padStart(3, '0')}`);
/** The policy's escalation: a red alert unacknowledged 20 s after it opened. */
const ESCALATE_AFTER_MS = 20_000;

describe.skipIf(!services.available)('cluster, live mode: an escalation due while the input is quiet is sent, across a SIGKILL of the stage owner', () => {
  const sfx = uniqueSuffix();
  const setting = new NotificationSetting(services.kafka, `itl${sfx}`);
  const { cluster, receiver, topic } = setting;

  beforeAll(
    () =>
      setting.setUp((receiver) => ({
        receivers: { duty: { type: 'webhook', url: receiver.url('/hook'), secret: 'a-secret-of-sixteen-chars' } },
        routes: [
          { name: 'all', receivers: ['duty'], groupWaitSeconds: 0, actions: ['opened', 'escalated', 'resolved'] },
          { name: 'oncall', receivers: ['duty'], escalationOnly: true },
        ],
        escalation: { red: { afterMinutes: ESCALATE_AFTER_MS / 60_000, route: 'oncall' } },
        retry: { initialSeconds: 0.2, maxSeconds: 1 },
      })),
    120_000,
  );

  afterAll(() => setting.tearDown());

  it('delivers opened, escalated, the escalation and resolved of every alert outside the silence', async () => {
    const group = `itl-${sfx}`;
    // Live: a task idle for 1 s ticks; 2 s of allowed lateness, so the stage's clock trails the wall clock by seconds.
    const env = { HUITIAN_CONFIG: setting.configFile, HUITIAN_TIME_MODE: 'live', HUITIAN_IDLE_TIMEOUT_S: '1', HUITIAN_LATENESS_S: '2' };
    const members: Member[] = [cluster.start('l0', group, env), cluster.start('l1', group, env), cluster.start('l2', group, env)];
    await waitFor('the group to assign its 7 tasks', () => cluster.caughtUp(members, 7).catch(() => undefined), 120_000, 500, () => cluster.detail());

    const now = Date.now();
    const silence = await cluster.request(members[1]!, 'POST', '/v1/silences', {
      matchers: { district: TTYN },
      startsAt: new Date(now - 3600_000).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      comment: '泵站检修',
    });
    expect(silence.status, silence.text).toBe(201);

    let n = 0;
    let lastTime = '';
    const readings = (depthCm: number): TopicMessage[] => {
      const time = (lastTime = new Date().toISOString());
      const points = [...NOTIFIED.map((p) => [p, HLG] as const), ...SILENCED.map((p) => [p, TTYN] as const)];
      return points.map(([pointId, district]) => ({
        topic,
        key: pointId,
        value: JSON.stringify({ specversion: '1.0', id: `${pointId}-${n++}`, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time, data: { pointId, depthCm, district } }),
      }));
    };
    const received = () => receivedDeliveries(receiver.calls);
    const transitions = (action: string) => (ids: readonly string[]) => ids.map((id) => `${id} ${action}`);
    const waitDelivered = (what: string, want: () => string[], timeoutMs: number) => waitForTransitions(cluster, receiver, what, want, timeoutMs);

    await sendByTopic(setting.producer, readings(20));
    const alerts = await waitFor(
      'every point open in the view',
      async () => {
        const a = await cluster.alerts(members[0]!);
        return a.size === NOTIFIED.length + SILENCED.length ? a : undefined;
      },
      60_000,
      200,
      () => cluster.detail(),
    );
    const byEntity = new Map<string, AlertRow>();
    for (const a of alerts.values()) byEntity.set((a as AlertRow & { entityId: string }).entityId, a);
    const notifiedIds = NOTIFIED.map((p) => byEntity.get(p)!.id);
    const silencedIds = SILENCED.map((p) => byEntity.get(p)!.id);
    await waitDelivered('every opened delivered', () => transitions('opened')(notifiedIds), 60_000);

    // Red, then nothing more until the escalations are in: they are due by the clock alone.
    // The stage's owner is killed at once, before any escalation can be due (20 s of event
    // time after opening, behind the wall clock by the lateness): its successor decides them all.
    let victim: Member | undefined;
    for (const m of members) if ((await cluster.tasks(m)).some((t) => t.task === 'global')) victim = m;
    expect(victim, 'an owner of the global stage').toBeDefined();
    await sendByTopic(setting.producer, readings(45));
    const redAt = Date.parse(lastTime);
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    const survivors = members.filter((m) => m !== victim);
    expect([...transitionsOf(received())].filter((t) => t.endsWith(' escalated_to'))).toEqual([]);

    await waitDelivered('every escalated (yellow → red) and every escalation of the policy delivered', () => [...transitions('escalated')(notifiedIds), ...transitions('escalated_to')(notifiedIds)], 120_000);
    const quietUntil = receiver.calls.length;
    // Decided by the stage's clock (event time): not sooner than the policy says, and after red.
    for (const r of received()) {
      for (const a of r.parsed.alerts) {
        if (a.action !== 'escalated_to') continue;
        const entry = a.alert.history?.find((h) => h.action === 'escalated_to');
        expect(entry, a.alert.id).toBeDefined();
        expect(Date.parse(entry!.at) - Date.parse(a.alert.openedAt), a.alert.id).toBeGreaterThanOrEqual(ESCALATE_AFTER_MS);
        expect(Date.parse(entry!.at), a.alert.id).toBeGreaterThanOrEqual(redAt);
      }
    }

    await sendByTopic(setting.producer, readings(2));
    await waitDelivered('every resolved delivered', () => transitions('resolved')(notifiedIds), 60_000);
    const lists = await deliveredOnEverySurvivor(cluster, survivors);

    const all = received();
    // Every escalation was in before any reading after the red ones was produced.
    for (const r of all) if (r.parsed.alerts.some((a) => a.action === 'escalated_to')) expect(r.index).toBeLessThan(quietUntil);
    const byDelivery = expectRepeatsIdentical(all);
    await stageEntriesInEveryView(cluster, survivors, { escalated_to: notifiedIds, silenced: silencedIds });
    // Nothing for the silenced ones, although they were raised.
    expect(all.filter((r) => r.parsed.alerts.some((a) => silencedIds.includes(a.alert.id)))).toEqual([]);
    const final = await cluster.alerts(survivors[0]!);
    for (const id of [...notifiedIds, ...silencedIds]) expect(final.get(id)?.status, id).toBe('resolved');
    const receivedIds = [...byDelivery.keys()].sort();
    for (const l of lists) expect(l.map((d) => d.deliveryId).sort()).toEqual(receivedIds);
    expect(cluster.nonConforming).toEqual([]);
  }, 300_000);
});
