/**
 * alert_ack_seconds_mean: seconds from an alert's opening to its first acknowledgement, by
 * category, in event time (the engine stamps operators' actions with the stream's clock).
 */
import { describe, expect, it } from 'vitest';
import { WATERLOGGING_DEPTH_RULE } from '../../src/alerts/waterlogging-depth.js';
import { alertAckSecondsMean } from '../../src/kpis/alert-ack.js';
import { core, ms } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';

const MEAN = 'alert_ack_seconds_mean';

describe('alert_ack_seconds_mean', () => {
  it('replay: measures from opening to the first acknowledgement on the stream clock, in the minute of the acknowledgement', () => {
    const run = new EngineRun();
    run.stream([core.depth(30, 'P1', 20), core.gas(40, 'G1', 25)]);
    const flood = run.lastAlert(WATERLOGGING_DEPTH_RULE, 'P1')!;
    const gas = run.lastAlert('gas_leak', 'G1')!;
    // The stream clock in replay is the newest event time: 150 s.
    run.stream([core.depth(150, 'P9', 1)]);
    const ack = run.acknowledge(flood.id, '张工', '已派排水车');
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    expect(ack.alert).toMatchObject({ status: 'acknowledged', acknowledgedAt: ms(150) });
    // wallClockAt: the run's wall clock (0 here), beside the stream clock.
    expect(ack.alert.history.at(-1)).toEqual({ at: ms(150), wallClockAt: 0, action: 'acknowledged', severity: 'yellow', by: '张工', note: '已派排水车' });
    expect(ack.step.partials.map((p) => [p.family, p.bucket - ms(0), p.tags, p.fields])).toEqual([
      ['alert_ack', 120_000, { category: 'flood' }, { ack_seconds_sum: 120, ack_count: 1 }],
    ]);
    run.stream([core.depth(200, 'P9', 1)]);
    run.acknowledge(gas.id);
    expect(run.kpi(MEAN)).toMatchObject({ value: (120 + 160) / 2, sum: 280, count: 2 });
    expect(run.kpi(MEAN, ['category']).groups).toEqual([
      { key: { category: 'flood' }, value: 120, sum: 120, count: 1 },
      { key: { category: 'utility' }, value: 160, sum: 160, count: 1 },
    ]);
  });

  it('live: the clock runs on with the wall time since the last event', () => {
    const run = new EngineRun(engineConfig({ timeMode: 'live' }));
    run.now = ms(30); // the wall clock where the reading was stamped
    run.stream([core.depth(30, 'P1', 20)]);
    const alert = run.lastAlert(WATERLOGGING_DEPTH_RULE, 'P1')!;
    run.now += 45_000;
    const ack = run.acknowledge(alert.id);
    expect(ack.ok && ack.alert.acknowledgedAt).toBe(ms(75));
    expect(run.kpi(MEAN)).toMatchObject({ value: 45, count: 1 });
  });

  it('counts only the first acknowledgement; a second is refused; one after an escalation is recorded but not counted', () => {
    const run = new EngineRun();
    run.stream([core.depth(0, 'P1', 20), core.depth(60, 'P1', 21)]);
    const id = run.lastAlert(WATERLOGGING_DEPTH_RULE, 'P1')!.id;
    expect(run.acknowledge(id).ok).toBe(true);
    expect(run.acknowledge(id)).toEqual({ ok: false, refusal: 'already_acknowledged' });
    run.stream([core.depth(120, 'P1', 30)]); // escalation to orange re-opens it for the operators
    expect(run.engine.activeAlert(id)?.status).toBe('open');
    const again = run.acknowledge(id);
    expect(again.ok && again.alert.acknowledgedAt).toBe(ms(60));
    expect(again.ok && again.step.partials).toEqual([]);
    expect(run.kpi(MEAN)).toMatchObject({ value: 60, count: 1 });
  });

  it('refuses an alert that is not active', () => {
    const run = new EngineRun();
    expect(run.acknowledge('al_nope')).toEqual({ ok: false, refusal: 'not_active' });
    expect(run.resolve('al_nope')).toEqual({ ok: false, refusal: 'not_active' });
  });

  it('catalogue entry', () => {
    expect(alertAckSecondsMean).toMatchObject({ kind: 'mean', family: 'alert_ack', sumField: 'ack_seconds_sum', countField: 'ack_count', groupTags: ['category'], target: null });
  });
});
