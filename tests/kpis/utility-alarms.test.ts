/** utility_active_alarms: alarms raised and not cleared at the end of each minute. */
import { describe, expect, it } from 'vitest';
import { utilityActiveAlarms } from '../../src/kpis/utility-alarms.js';
import { core, HLG, TTYN } from '../helpers/events.js';
import { EngineRun } from '../helpers/engine-run.js';

const { alarm } = core;
const ACTIVE = 'utility_active_alarms';

describe('utility_active_alarms', () => {
  it('counts raised alarms per (line, code) until cleared, by network and district', () => {
    const run = new EngineRun();
    run.streamSorted([
      alarm(10, 'W1', 'P-LOW', 'raised', { district: HLG }),
      alarm(20, 'W1', 'LEAK', 'raised', { district: HLG }),
      alarm(30, 'E1', 'OVERLOAD', 'raised', { network: 'power', district: TTYN }),
      alarm(70, 'W1', 'P-LOW', 'cleared', { district: HLG }),
    ]);
    run.watermarkTo(120);
    expect(run.family('utility_alarms')).toEqual([
      { minute: 0, tags: { network: 'power', district: TTYN }, fields: { active: 1 } },
      { minute: 0, tags: { network: 'water', district: HLG }, fields: { active: 2 } },
      { minute: 1, tags: { network: 'power', district: TTYN }, fields: { active: 1 } },
      { minute: 1, tags: { network: 'water', district: HLG }, fields: { active: 1 } },
    ]);
    expect(run.kpi(ACTIVE)).toMatchObject({ value: 2, last: 2, max: 3, mean: 2.5, samples: 2 });
    expect(run.kpi(ACTIVE, ['network']).groups).toEqual([
      { key: { network: 'power' }, value: 1, last: 1, max: 1, mean: 1, samples: 2 },
      { key: { network: 'water' }, value: 1, last: 1, max: 2, mean: 1.5, samples: 2 },
    ]);
  });

  it('writes zero for a group whose alarms are all cleared', () => {
    const run = new EngineRun();
    run.stream([alarm(10, 'W1', 'C', 'raised'), alarm(20, 'W1', 'C', 'cleared')]);
    run.watermarkTo(60);
    expect(run.family('utility_alarms')).toEqual([{ minute: 0, tags: { network: 'water', district: 'unknown' }, fields: { active: 0 } }]);
    expect(run.kpi(ACTIVE)).toMatchObject({ value: 0 });
  });

  it('follows the newest event by event time: a clear delivered before an older raise still wins', () => {
    const run = new EngineRun();
    run.stream([alarm(40, 'W1', 'C', 'cleared'), alarm(20, 'W1', 'C', 'raised')]);
    run.watermarkTo(60);
    expect(run.kpi(ACTIVE)).toMatchObject({ value: 0 });
  });

  it('catalogue entry', () => {
    expect(utilityActiveAlarms).toMatchObject({ kind: 'gauge', family: 'utility_alarms', unit: 'alarms', groupTags: ['network', 'district'] });
  });
});
