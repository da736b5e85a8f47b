/**
 * A cluster task (docs/cluster.md §1): the records of its partition in offset order —
 * events, operator commands, idle ticks — with its outcomes counted by event type, as the
 * single-engine pipeline counts them.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_HEADER, Task, type TaskRecord } from '../../src/cluster/task.js';
import { DEFAULT_ENGINE_CONFIG } from '../../src/engine/engine.js';

const T = Date.parse('2026-07-21T08:00:00+08:00');
const reading = (id: string, secondsIn: number, depthCm: number) =>
  JSON.stringify({ specversion: '1.0', id, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: new Date(T + secondsIn * 1000).toISOString(), data: { pointId: 'HLG-001', depthCm } });
/** An alarm without the fields its schema needs: refused, and counted under its own type. */
const badAlarm = (id: string, secondsIn: number) =>
  JSON.stringify({ specversion: '1.0', id, source: '/utility', type: 'huitian.utility.alarm', time: new Date(T + secondsIn * 1000).toISOString(), data: { lineId: 'L-1', kind: 'pressure', severity: 'minor' } });

function records(values: Array<string | { command: string; body: unknown }>): TaskRecord[] {
  return values.map((v, i) =>
    typeof v === 'string'
      ? { offset: String(i), timestamp: String(T + 600_000), value: Buffer.from(v) }
      : { offset: String(i), timestamp: String(T + 600_000), headers: { [COMMAND_HEADER]: v.command }, value: Buffer.from(JSON.stringify(v.body)) },
  );
}

describe('Task', () => {
  it('counts each outcome by event type, dead-letters the refused, and skips records it applied before', () => {
    const task = new Task('huitian.waterlogging-0', 'huitian.waterlogging', 0, { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' }, 0n);
    const input = records([reading('r1', 0, 3), reading('r2', 300, 4), reading('r1', 0, 3), reading('r0', -400, 2), '{"not": "an event"}', '', badAlarm('a1', 310)]);
    const out = task.process(input, 0);
    expect(Object.fromEntries(Object.entries(out.byType).map(([k, m]) => [k, Object.fromEntries(m)]))).toEqual({
      in: { 'huitian.waterlogging.reading': 4, 'huitian.utility.alarm': 1, invalid: 2 },
      accepted: { 'huitian.waterlogging.reading': 2 },
      duplicate: { 'huitian.waterlogging.reading': 1 },
      late: { 'huitian.waterlogging.reading': 1 },
      future: {},
      conflict: {},
      rejected: { invalid: 2, 'huitian.utility.alarm': 1 },
    });
    expect(out.deadLetters.map((d) => [d.eventId, d.reason === 'late' ? 'late' : 'invalid'])).toEqual([
      [null, 'invalid'],
      [null, 'invalid'],
      ['a1', 'invalid'],
      ['r0', 'late'],
    ]);
    expect(task.next).toBe(7n);
    // Re-delivered after a rebalance that kept the task here: nothing applied twice.
    expect(task.process(input, 0).counts.records).toBe(0);
  });

  it('refuses a command for an alert it does not hold, and moves time on by a logged idle tick', () => {
    const live = new Task('huitian.waterlogging-0', 'huitian.waterlogging', 0, { ...DEFAULT_ENGINE_CONFIG, timeMode: 'live' }, 0n);
    const out = live.process(records([reading('r1', 0, 3), { command: 'ack', body: { alertId: 'al_x', by: '值班员', requestId: 'q1' } }, { command: 'tick', body: { now: T + 3600_000 } }]), 0);
    expect(out.refused).toEqual([{ requestId: 'q1', alertId: 'al_x', kind: 'ack' }]);
    // Newest event time − lateness, plus the wall time the tick says passed since the last record.
    expect(live.engine.watermark).toBe(T - 60_000 + (3600_000 - 600_000));
  });

  it('dead-letters a conflicting incident and, replaying, an event far ahead of the stream, counted as such', () => {
    const received = (id: string, secondsIn: number, category: string) =>
      JSON.stringify({ specversion: '1.0', id, source: '/dispatch', type: 'huitian.dispatch.received', time: new Date(T + secondsIn * 1000).toISOString(), data: { incidentId: 'F-1', category, district: '回龙观街道', lon: 116.33, lat: 40.07 } });
    const task = new Task('huitian.dispatch-0', 'huitian.dispatch', 0, { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay', maxFutureMs: 24 * 3600_000 }, 0n);
    const out = task.process(records([received('c1', 0, 'fire'), received('c2', 30, 'rescue'), reading('r9', 30 * 3600, 5)]), 0);
    expect(Object.fromEntries(out.byType.conflict)).toEqual({ 'huitian.dispatch.received': 1 });
    expect(Object.fromEntries(out.byType.future)).toEqual({ 'huitian.waterlogging.reading': 1 });
    expect(out.deadLetters.map((d) => d.eventId)).toEqual(['c2', 'r9']);
    expect(out.deadLetters[0]!.reason).toMatch(/category/);
    expect(out.deadLetters[1]!.reason).toMatch(/ahead of the newest event time/);
  });
});
