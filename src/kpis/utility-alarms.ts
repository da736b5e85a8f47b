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
import { tagKeyOf, UNKNOWN } from './partials.js';

export const UTILITY_ALARMS_FAMILY = 'utility_alarms';

export const utilityActiveAlarms: GaugeKpi = {
  name: 'utility_active_alarms',
  title: '地下管线在报警数',
  titleEn: 'Active underground utility alarms',
  unit: 'alarms',
  target: null,
  targetDirection: null,
  kind: 'gauge',
  family: UTILITY_ALARMS_FAMILY,
  groupTags: ['network', 'district'],
  minuteValue: (f) => (f.active === undefined ? null : f.active),
  description: '每分钟末已上报且未解除的管线报警数量（按管线与报警码区分）。',
  descriptionEn: 'Alarms raised and not cleared at the end of each minute, one per (line, alarm code).',
};

interface AlarmMeta {
  network: UtilityNetwork;
  district?: string;
}

export class UtilityAlarmsGauge {
  private readonly alarms = new LatestReadings<boolean, AlarmMeta>();

  onAlarm(e: EventOf<'huitian.utility.alarm'>): void {
    const d = e.data;
    this.alarms.add(`${d.lineId}/${d.code}`, e.time, d.state === 'raised', { network: d.network, district: d.district });
  }

  sampleMinute(ctx: StepContext, boundary: number): void {
    const groups = new Map<string, { tags: { network: string; district: string }; active: number }>();
    this.alarms.sample(boundary, (_alarm, entity) => {
      const tags = { network: entity.meta.network, district: entity.meta.district ?? UNKNOWN };
      const key = tagKeyOf(tags);
      let group = groups.get(key);
      if (group === undefined) {
        group = { tags, active: 0 };
        groups.set(key, group);
      }
      if (entity.current!.value) group.active++;
    });
    const bucket = boundary - 60_000;
    for (const group of groups.values()) ctx.partials.add(UTILITY_ALARMS_FAMILY, bucket, group.tags, { active: group.active });
  }

  snapshot(): ReadingsSnapshot<boolean, AlarmMeta> {
    return this.alarms.snapshot();
  }

  restore(s: ReadingsSnapshot<boolean, AlarmMeta>): void {
    this.alarms.restore(s);
  }
}
