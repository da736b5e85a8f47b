/**
 * Alert notifications in cluster mode (docs/cluster.md §10) on the real Kafka: three members
 * of one group with a webhook route to a receiver on 127.0.0.1 and an escalation policy,
 * a silence created through one member's API, alerts raised by readings produced to the
 * input topic over several seconds, and the owner of the global stage — which owns the
 * notification stage and delivers its outbox — SIGKILLed while deliveries are under way.
 * At the end every transition the routes select (opened, escalated, the escalation, resolved)
 * of every alert outside the silence was delivered at least once; a delivery received twice
 * carried the same idempotency key and the same body; nothing was delivered for the
 * silenced alerts; each survivor lists every delivery as delivered. A CAP receiver on the
 * same route gets one message per alert version whose GB/T 35965.1 identifier the global task
 * numbered: a repeat after the handoff carries the same identifier, no two versions share one,
 * and every survivor's CAP form of each alert has the same identifier.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliveredOnEverySurvivor, expectRepeatsIdentical, NotificationSetting, receivedDeliveries, stageEntriesInEveryView, waitForTransitions } from './cluster-deliveries.js';
import type { AlertRow, Member } from './cluster-helpers.js';
import { sendByTopic, uniqueSuffix, waitFor, type TopicMessage } from './helpers.js';

const services = inject('services');
const START = Date.parse('2026-07-21T08:00:00+08:00');
const HLG = '回龙观街道';
const TTYN = '天通苑北街道';
const NOTIFIED = Array.from({ length: 10 }, (_, i) => `HLG-${String(i + 1).padStart(3, '0')}`);
const SILENCED = Array.from({ length: 4 }, (_, i) => `TTY-${String(i + 1).padStart(3, '0')}`);

/** Point i: yellow from minute i, red from i + 8 (escalated, and unacknowledged: the policy's escalation), resolved at i + 16. */
function depthAt(i: number, minute: number): number {
  const m = minute - i;
  if (m < 0 || m >= 16) return 2;
  return m < 8 ? 20 : 45;
}

describe.skipIf(!services.available)('cluster: notifications from the global stage survive a SIGKILL of its owner', () => {
  const sfx = uniqueSuffix();
  const setting = new NotificationSetting(services.kafka, `itn${sfx}`);
  const { cluster, receiver, topic } = setting;

  beforeAll(
    () =>
      setting.setUp((receiver) => ({
        receivers: { duty: { type: 'webhook', url: receiver.url('/hook'), secret: 'a-secret-of-sixteen-chars' }, warning: { type: 'cap', url: receiver.url('/cap') } },
        routes: [
          { name: 'all', receivers: ['duty', 'warning'], groupWaitSeconds: 0, actions: ['opened', 'escalated', 'resolved'] },
          { name: 'oncall', receivers: ['duty'], escalationOnly: true },
        ],
        escalation: { red: { afterMinutes: 3, route: 'oncall' } },
        retry: { initialSeconds: 0.2, maxSeconds: 1 },
      })),
    120_000,
  );

  afterAll(() => setting.tearDown());

  it('delivers every selected transition at least once, repeats with the same key, nothing for the silenced', async () => {
    const group = `itn-${sfx}`;
    const env = { HUITIAN_CONFIG: setting.configFile };
    const members: Member[] = [cluster.start('n0', group, env), cluster.start('n1', group, env), cluster.start('n2', group, env)];
    await waitFor('the group to assign its 7 tasks', () => cluster.caughtUp(members, 7).catch(() => undefined), 120_000, 500, () => cluster.detail());

    const silence = await cluster.request(members[1]!, 'POST', '/v1/silences', {
      matchers: { district: TTYN },
      startsAt: new Date(START - 3600_000).toISOString(),
      endsAt: new Date(START + 48 * 3600_000).toISOString(),
      comment: '泵站检修',
    });
    expect(silence.status, silence.text).toBe(201);
    const silenceId = (JSON.parse(silence.text) as { id: string }).id;

    const minutes = 32;
    const records = (from: number, to: number): TopicMessage[] => {
      const out: TopicMessage[] = [];
      for (let m = from; m < to; m++) {
        const time = new Date(START + m * 60_000).toISOString();
        const points = [...NOTIFIED.map((p, i) => [p, HLG, depthAt(i, m)] as const), ...SILENCED.map((p, i) => [p, TTYN, depthAt(i, m)] as const)];
        for (const [pointId, district, depthCm] of points) {
          const value = JSON.stringify({ specversion: '1.0', id: `${pointId}-${m}`, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time, data: { pointId, depthCm, district } });
          out.push({ topic, key: pointId, value });
        }
      }
      return out;
    };
    // Produced over ~8 s in slices of 4 minutes of readings; the owner of the global stage is
    // killed once deliveries have started and before the stream is done.
    let victim: Member | undefined;
    let deliveredAtKill = 0;
    for (let slice = 0; slice < minutes / 4; slice++) {
      await sendByTopic(setting.producer, records(slice * 4, slice * 4 + 4));
      if (slice === 3) {
        await waitFor('the first deliveries', () => (receiver.calls.length > 0 ? true : undefined), 60_000, 100, () => cluster.detail());
        for (const m of members) if ((await cluster.tasks(m)).some((t) => t.task === 'global')) victim = m;
        expect(victim, 'an owner of the global stage').toBeDefined();
        victim!.child.kill('SIGKILL');
        await victim!.exited;
        deliveredAtKill = receiver.calls.filter((c) => c.path === '/hook').length;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Past every transition by more than the allowed lateness (60 s), in every partition.
    await sendByTopic(setting.producer, records(120, 121));
    const survivors = members.filter((m) => m !== victim);

    const alerts = await waitFor(
      'every alert resolved in the view',
      async () => {
        const a = await cluster.alerts(survivors[0]!);
        return a.size === NOTIFIED.length + SILENCED.length && [...a.values()].every((x) => x.status === 'resolved') ? a : undefined;
      },
      120_000,
      500,
      () => cluster.detail(),
    );
    const byEntity = new Map<string, AlertRow & { entityId?: string }>();
    for (const a of alerts.values()) byEntity.set((a as AlertRow & { entityId: string }).entityId, a);
    const notifiedIds = NOTIFIED.map((p) => byEntity.get(p)!.id);
    const silencedIds = SILENCED.map((p) => byEntity.get(p)!.id);

    const received = () => receivedDeliveries(receiver.calls);
    const want = notifiedIds.flatMap((id) => ['opened', 'escalated', 'escalated_to', 'resolved'].map((action) => `${id} ${action}`)).sort();
    await waitForTransitions(cluster, receiver, 'every selected transition delivered', () => want, 120_000, 250);
    // Nothing pending on any survivor once the new owner is done.
    const lists = await deliveredOnEverySurvivor(cluster, survivors);

    const all = received();
    // At least once, and a repeat is the same delivery: same idempotency key, same body.
    const byDelivery = expectRepeatsIdentical(all);
    // The stage's entries are in every survivor's history, also where one reached the owning
    // task after it had resolved the alert (decided behind the watermark, or after the handoff).
    await stageEntriesInEveryView(cluster, survivors, { escalated_to: notifiedIds, silenced: silencedIds });
    // Nothing for the silenced ones, although they were raised.
    expect(silencedIds.every((id) => alerts.get(id)!.status === 'resolved')).toBe(true);
    expect(all.filter((r) => r.parsed.alerts.some((a) => silencedIds.includes(a.alert.id)))).toEqual([]);
    // Every survivor lists the same deliveries, and the ones received.
    const receivedIds = [...new Set(receiver.calls.filter((c) => c.status === 200).map((c) => String(c.headers['x-huitian-delivery'])))].sort();
    for (const l of lists) expect(l.map((d) => d.deliveryId).sort()).toEqual(receivedIds);
    expect(deliveredAtKill).toBeGreaterThan(0);
    expect(deliveredAtKill).toBeLessThan(byDelivery.size);
    const listed = await cluster.get<{ items: Array<{ id: string; state: string }> }>(survivors[0]!, '/v1/silences');
    expect(listed.items.map((s) => s.id)).toContain(silenceId);

    // CAP: one message per alert version, numbered by the global task (docs/cluster.md §10).
    const identifierOf = (xml: string) => /<identifier>([^<]+)<\/identifier>/.exec(xml)?.[1];
    const capWant = notifiedIds.length * 3;
    const capCalls = await waitFor(
      'a CAP message for every opened, escalated and resolved',
      () => {
        const calls = receiver.calls.filter((c) => c.status === 200 && c.path === '/cap');
        return new Set(calls.map((c) => String(c.headers['idempotency-key']))).size >= capWant ? calls : undefined;
      },
      60_000,
      250,
    );
    const identifiersByKey = new Map<string, Set<string>>();
    for (const c of capCalls) {
      const id = identifierOf(c.body);
      expect(id, c.body).toMatch(/^\d{14}_\d{14}_\d+$/);
      const k = String(c.headers['idempotency-key']);
      identifiersByKey.set(k, (identifiersByKey.get(k) ?? new Set()).add(id!));
    }
    // A repeat (the new owner re-sending) carries the identifier of the first send…
    for (const [k, ids] of identifiersByKey) expect([...ids], k).toHaveLength(1);
    // …and no two alert versions share one (a receiver dropping repeats by identifier drops none).
    const identifiers = [...identifiersByKey.values()].map((ids) => [...ids][0]!);
    expect(new Set(identifiers).size).toBe(identifiers.length);
    expect(new Set(capCalls.filter((c) => c.headers['idempotency-key'] !== undefined).map((c) => String(c.headers['x-huitian-delivery']))).size).toBe(identifiersByKey.size);
    // Every survivor answers the same CAP form (identifier, references) for every alert.
    const capForms = await waitFor(
      'every survivor numbering every alert',
      async () => {
        const forms: string[][] = [];
        for (const m of survivors) {
          const one: string[] = [];
          for (const id of [...notifiedIds, ...silencedIds]) {
            const r = await cluster.request(m, 'GET', `/v1/alerts/${encodeURIComponent(id)}/cap`);
            if (r.status === 503) return undefined;
            expect(r.status, r.text).toBe(200);
            one.push(`${identifierOf(r.text)} ${/<references>([^<]*)<\/references>/.exec(r.text)?.[1] ?? ''}`);
          }
          forms.push(one);
        }
        return forms;
      },
      30_000,
      500,
    );
    for (const f of capForms) expect(f).toEqual(capForms[0]);
    expect(new Set(capForms[0]!.map((f) => f.split(' ')[0])).size).toBe(notifiedIds.length + silencedIds.length);
    expect(cluster.nonConforming).toEqual([]);
  }, 300_000);
});
