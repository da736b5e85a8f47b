/**
 * `utility_active_alarms`: utility alarms raised and not yet cleared at the end of each
 * minute of event time, by network and district. An alarm is identified by
 * (lineId, code) and follows its newest event by event time.
 *
 * Partial family `utility_alarms`, tags {network, district}, field: active.
 */
import type { EventOf, UtilityNetwork } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import type { GaugeKpi } from './kpi-definition.js';
import { LatestReadings, type ReadingsSnapshot } from './latest-readings.js';
import { utilityAlarmEntity } from '../alerts/utility-alarm.js';
import { UNKNOWN } from './partials.js';
import { GAUGE_FAMILIES, MinuteRollup } from './gauge-rollups.js';

export const UTILITY_ALARMS_FAMILY = 'utility_alarms';

export const utilityActiveAlarms: GaugeKpi = {
  name: 'utility_active_alarms',
  title: '地下管线在报警数',
  titleEn: 'Active underground utility alarms',
  unit: 'alarms',
  target: 0,
  targetDirection: 'atMost',
  targetBasis: '每条地下管线报警都应处置并解除：在报警数为 0。',
  targetBasisEn: 'Every underground utility alarm is handled and cleared: none active.',
  kind: 'gauge',
  family: UTILITY_ALARMS_FAMILY,
  groupTags: ['network', 'district'],
  minuteValue: (f) => (f.active === undefined ? null : f.active),
  minuteFields: ['active'],
  description: '每分钟末已上报且未解除的管线报警数量（按管线与报警码区分）。',
  descriptionEn: 'Alarms raised and not cleared at the end of each minute, one per (line, alarm code).',
};

interface AlarmMeta {
  network: UtilityNetwork;
  district?: string;
}

interface Group {
  tags: { network: string; district: string };
  active: number;
}

export class UtilityAlarmsGauge {
  private readonly alarms = new LatestReadings<boolean, AlarmMeta>((a, b) => a.network === b.network && a.district === b.district);
  private readonly rollup = new MinuteRollup(GAUGE_FAMILIES.get(UTILITY_ALARMS_FAMILY)!);

  onAlarm(e: EventOf<'huitian.utility.alarm'>): void {
    const d = e.data;
    this.alarms.add(utilityAlarmEntity(d.lineId, d.code), e.time, d.state === 'raised', { network: d.network, district: d.district }, e.id, e.source);
  }

  sampleMinute(ctx: StepContext, boundary: number): void {
    // Grouped by network, then district: every alarm is visited every minute, so the
    // grouping neither builds nor sorts a tag set per alarm; only per group.
    const byNetwork = new Map<string, Map<string, Group>>();
    const groups: Group[] = [];
    this.alarms.sample(boundary, (_alarm, entity) => {
      const network = entity.meta.network;
      const district = entity.meta.district ?? UNKNOWN;
      let byDistrict = byNetwork.get(network);
      if (byDistrict === undefined) {
        byDistrict = new Map();
        byNetwork.set(network, byDistrict);
      }
      let group = byDistrict.get(district);
      if (group === undefined) {
        group = { tags: { network, district }, active: 0 };
        byDistrict.set(district, group);
        groups.push(group);
      }
      if (entity.current!.value) group.active++;
    });
    const bucket = boundary - 60_000;
    for (const group of groups) {
      const fields = { active: group.active };
      ctx.partials.add(UTILITY_ALARMS_FAMILY, bucket, group.tags, fields);
      this.rollup.add(group.tags, fields);
    }
    this.rollup.flushTo(ctx.partials, bucket);
  }

  snapshot(): ReadingsSnapshot<boolean, AlarmMeta> {
    return this.alarms.snapshot();
  }

  restore(s: ReadingsSnapshot<boolean, AlarmMeta>): void {
    this.alarms.restore(s);
  }
}
