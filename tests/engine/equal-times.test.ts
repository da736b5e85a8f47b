/**
 * Where two events of one entity share an event time, the data decides, never which
 * came first (DESIGN §6; issue 9). Each case feeds the same pair in both arrival orders
 * and expects identical partials and alert states.
 */
import { describe, expect, it } from 'vitest';
import { GAS_LEAK_RULE } from '../../src/alerts/gas-leak.js';
import { PARKING_FULL_RULE } from '../../src/alerts/parking-full.js';
import { UTILITY_ALARM_RULE } from '../../src/alerts/utility-alarm.js';
import { WATERLOGGING_DEPTH_RULE } from '../../src/alerts/waterlogging-depth.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';
import { core, HLG } from '../helpers/events.js';

/** Runs `events` in the given order, moves the watermark past `until` seconds, returns the run. */
function runInOrder(events: readonly HuitianEvent[], until: number, config = engineConfig()): EngineRun {
  const run = new EngineRun(config);
  run.stream(events);
  run.watermarkTo(until);
  return run;
}

/** Both arrival orders of a pair give the same partial rows and the same final alert. */
function expectOrderFree(pair: readonly [HuitianEvent, HuitianEvent], until: number, family: string, rule?: string, entity?: string): EngineRun {
  const ab = runInOrder([pair[0], pair[1]], until);
  const ba = runInOrder([pair[1], pair[0]], until);
  expect(ba.family(family)).toEqual(ab.family(family));
  if (rule !== undefined) {
    const state = (r: EngineRun) => {
      const a = r.lastAlert(rule, entity!);
      return a === undefined ? null : { id: a.id, status: a.status, severity: a.severity, value: a.value };
    };
    expect(state(ba)).toEqual(state(ab));
  }
  return ab;
}

describe('equal event times are decided by the data', () => {
  it('the station of the first dispatch: of two orders at one instant, the one naming a station', () => {
    // Issue 9's counterexample: two dispatch orders of one incident with one time, one with a station, one without.
    const withStation = core.dispatched(30, 'F1', 'U2', '回龙观消防站');
    const without = core.dispatched(30, 'F1', 'U1');
    for (const order of [
      [withStation, without],
      [without, withStation],
    ]) {
      const run = runInOrder([core.received(0, 'F1', 'fire', HLG), ...order, core.arrived(200, 'F1', 'U1')], 400);
      expect(run.family('fire_response')).toEqual([
        { minute: 0, tags: { district: HLG, station: '回龙观消防站' }, fields: { covered: 1, rt_count: 1, rt_sum: 170, rt_le_170: 1 } },
      ]);
    }
  });

  it('of two orders at one instant both naming a station, the smaller unit id decides', () => {
    const pair = [core.dispatched(30, 'F1', 'U9', '天通苑消防站'), core.dispatched(30, 'F1', 'U1', '霍营消防站')] as const;
    for (const order of [pair, [pair[1], pair[0]] as const]) {
      const run = runInOrder([core.received(0, 'F1', 'fire', HLG), ...order, core.arrived(100, 'F1', 'U9')], 400);
      expect(run.family('fire_response')[0]!.tags.station).toBe('霍营消防站');
    }
  });

  it('two waterlogging readings at one instant: the same one is the latest, for the gauge and for the alert', () => {
    const deep = core.depth(10, 'P1', 30, { district: HLG }, { id: 'wl-b' });
    const shallow = core.depth(10, 'P1', 5, { district: HLG }, { id: 'wl-a' });
    const run = expectOrderFree([deep, shallow], 180, 'waterlogging', WATERLOGGING_DEPTH_RULE, 'P1');
    // `wl-b` comes after `wl-a` in the event order, so 30 cm is the latest depth.
    expect(run.family('waterlogging')[0]!.fields.depth_cm).toBe(30);
  });

  it('two district tags at one instant: the gauge is tagged alike in both orders', () => {
    const a = core.depth(10, 'P1', 5, { district: HLG }, { id: 'wl-a' });
    const b = core.depth(10, 'P1', 5, { district: '霍营街道' }, { id: 'wl-b' });
    expectOrderFree([a, b], 180, 'waterlogging');
  });

  it('two parking readings at one instant', () => {
    const full = core.lot(10, 'L1', 100, 100, { district: HLG }, { id: 'lot-a' });
    const empty = core.lot(10, 'L1', 10, 100, { district: HLG }, { id: 'lot-b' });
    expectOrderFree([full, empty], 900, 'parking', PARKING_FULL_RULE, 'L1');
  });

  it('a utility alarm raised and cleared at one instant', () => {
    const raised = core.alarm(10, 'W-1', 'LEAK', 'raised', { level: 'orange', district: HLG }, { id: 'alm-b' });
    const cleared = core.alarm(10, 'W-1', 'LEAK', 'cleared', { district: HLG }, { id: 'alm-a' });
    expectOrderFree([raised, cleared], 180, 'utility_alarms', UTILITY_ALARM_RULE, 'W-1/LEAK');
  });

  it('two gas readings at one instant: the alert ends in the state of the same newest reading', () => {
    // A threshold rule acts on arrival, so its history may differ (60 first opens and the
    // newer 2 clears; 2 first leaves 60 a straggler), but where it ends does not.
    const high = core.gas(10, 'G-1', 60, {}, { id: 'gas-a' });
    const low = core.gas(10, 'G-1', 2, {}, { id: 'gas-b' });
    const active = (r: EngineRun) => {
      const a = r.lastAlert(GAS_LEAK_RULE, 'G-1');
      return a !== undefined && a.status !== 'resolved';
    };
    expect(active(runInOrder([high, low], 180))).toBe(false);
    expect(active(runInOrder([low, high], 180))).toBe(false);
    // And the other way round: the newest says 60, whichever came first.
    const high2 = core.gas(10, 'G-2', 60, {}, { id: 'gas-d' });
    const low2 = core.gas(10, 'G-2', 2, {}, { id: 'gas-c' });
    const severity = (r: EngineRun) => r.lastAlert(GAS_LEAK_RULE, 'G-2')?.severity ?? null;
    expect(severity(runInOrder([high2, low2], 180))).toBe('red');
    expect(severity(runInOrder([low2, high2], 180))).toBe('red');
  });

  it('sensor silence follows the same newest reading as the threshold rule (live mode)', () => {
    const config = engineConfig({ timeMode: 'live' });
    const a = core.depth(10, 'P1', 5, {}, { id: 'wl-a' });
    const b = core.depth(10, 'P1', 6, {}, { id: 'wl-b' });
    const history = (order: HuitianEvent[]) => {
      const run = new EngineRun(config);
      run.now = a.time;
      run.stream(order);
      run.tick(a.time + 3600_000);
      return run.changes.map((c) => [c.action, c.alert.rule, c.alert.openedAt, c.alert.history.map((h) => h.by)]);
    };
    expect(history([b, a])).toEqual(history([a, b]));
  });
});
