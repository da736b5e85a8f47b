/** Gas leak alert: orange ≥ 20 %LEL, red ≥ 50 %LEL, resolved below 10 %LEL. */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import { GAS_LEAK_RULE } from '../../src/alerts/gas-leak.js';
import { core, ev, ms, TTYN } from '../helpers/events.js';
import { EngineRun } from '../helpers/engine-run.js';

const { gas } = core;
const RULE = GAS_LEAK_RULE;

describe('gas_leak', () => {
  it('opens orange at 20 %LEL, escalates red at 50, holds at 12, resolves below 10', () => {
    const run = new EngineRun();
    run.stream([gas(0, 'G1', 19.9), gas(60, 'G1', 20, { district: TTYN }), gas(120, 'G1', 49.9), gas(180, 'G1', 50), gas(240, 'G1', 12), gas(300, 'G1', 10), gas(360, 'G1', 9.9)]);
    expect(run.transitions()).toEqual([
      ['opened', RULE, 'G1', 'orange', 'open'],
      ['escalated', RULE, 'G1', 'red', 'open'],
      ['resolved', RULE, 'G1', 'red', 'resolved'],
    ]);
    const alert = run.lastAlert(RULE, 'G1')!;
    expect(alert).toMatchObject({
      id: alertIdOf(RULE, 'G1', ms(60)),
      category: 'utility',
      district: TTYN,
      openedAt: ms(60),
      resolvedAt: ms(360),
      threshold: 50,
      title: '燃气泄漏红色预警：管线 G1 浓度 50%LEL',
      titleEn: 'Gas leak red warning: line G1 at 50 %LEL',
    });
  });

  it('ignores other metrics, even on a gas line', () => {
    const run = new EngineRun();
    run.stream([
      ev('huitian.utility.reading', 0, { lineId: 'G1', network: 'gas', metric: 'pressure_mpa', value: 60 }),
      ev('huitian.utility.reading', 0, { lineId: 'H1', network: 'heat', metric: 'temperature_c', value: 95 }),
    ]);
    expect(run.changes).toEqual([]);
  });

  it('a straggler never moves the alert back', () => {
    const run = new EngineRun();
    run.stream([gas(100, 'G1', 60), gas(90, 'G1', 0)]);
    expect(run.transitions()).toEqual([['opened', RULE, 'G1', 'red', 'open']]);
  });
});
