/** parking_occupancy_rate: Σ occupied ÷ Σ capacity over lots' latest readings, per minute. */
import { describe, expect, it } from 'vitest';
import { parkingOccupancyRate } from '../../src/kpis/parking.js';
import { core, HLG, TTYN } from '../helpers/events.js';
import { EngineRun } from '../helpers/engine-run.js';

const { lot } = core;
const RATE = 'parking_occupancy_rate';

describe('parking_occupancy_rate', () => {
  it('divides the sums, not the average of ratios', () => {
    const run = new EngineRun();
    run.streamSorted([lot(10, 'L1', 90, 100, { district: HLG }), lot(20, 'L2', 30, 300, { district: HLG }), lot(30, 'L3', 45, 50, { district: TTYN })]);
    run.watermarkTo(60);
    expect(run.family('parking')).toEqual([
      { minute: 0, tags: { district: HLG, lot: 'L1' }, fields: { occupied: 90, capacity: 100 } },
      { minute: 0, tags: { district: HLG, lot: 'L2' }, fields: { occupied: 30, capacity: 300 } },
      { minute: 0, tags: { district: TTYN, lot: 'L3' }, fields: { occupied: 45, capacity: 50 } },
    ]);
    expect(run.kpi(RATE)).toMatchObject({ value: 165 / 450, samples: 1 });
    expect(run.kpi(RATE, ['district']).groups).toEqual([
      { key: { district: HLG }, value: 0.3, last: 0.3, max: 0.3, mean: 0.3, samples: 1 },
      { key: { district: TTYN }, value: 0.9, last: 0.9, max: 0.9, mean: 0.9, samples: 1 },
    ]);
    expect(run.kpi(RATE, ['lot']).groups.map((g) => [g.key.lot, g.value])).toEqual([
      ['L1', 0.9],
      ['L2', 0.1],
      ['L3', 0.9],
    ]);
  });

  it('can exceed 1 when cars park beyond the marked spaces', () => {
    const run = new EngineRun();
    run.stream([lot(10, 'L1', 110, 100)]);
    run.watermarkTo(60);
    expect(run.kpi(RATE)).toMatchObject({ value: 1.1, max: 1.1 });
  });

  it('uses each lot’s latest reading in the minute and carries it on; last, max and mean over the range', () => {
    const run = new EngineRun();
    run.stream([lot(10, 'L1', 20, 100), lot(50, 'L1', 80, 100), lot(130, 'L1', 50, 100)]);
    run.watermarkTo(180);
    expect(run.family('parking').map((r) => [r.minute, r.fields.occupied])).toEqual([
      [0, 80],
      [1, 80],
      [2, 50],
    ]);
    expect(run.kpi(RATE)).toMatchObject({ value: 0.5, last: 0.5, max: 0.8, mean: (0.8 + 0.8 + 0.5) / 3, samples: 3 });
  });

  it('follows a change of capacity', () => {
    const run = new EngineRun();
    run.stream([lot(10, 'L1', 50, 100), lot(70, 'L1', 50, 200)]);
    run.watermarkTo(120);
    expect(run.family('parking').map((r) => r.fields)).toEqual([
      { occupied: 50, capacity: 100 },
      { occupied: 50, capacity: 200 },
    ]);
  });

  it('catalogue entry', () => {
    expect(parkingOccupancyRate).toMatchObject({ kind: 'gauge', family: 'parking', unit: 'ratio', groupTags: ['district', 'lot'] });
    expect(parkingOccupancyRate.minuteValue({ occupied: 3 })).toBeNull();
    expect(parkingOccupancyRate.minuteValue({ occupied: 3, capacity: 0 })).toBeNull();
    expect(parkingOccupancyRate.minuteValue({ capacity: 4 })).toBe(0);
  });
});
