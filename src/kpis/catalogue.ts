/** Every KPI the service computes: what `GET /v1/kpis` lists and queries accept. */
import { alertAckSecondsMean } from './alert-ack.js';
import { fireResponseCoverage, fireResponseTimeP90 } from './fire-response.js';
import type { KpiDefinition } from './kpi-definition.js';
import { parkingOccupancyRate } from './parking.js';
import { utilityActiveAlarms } from './utility-alarms.js';
import { waterloggingMaxDepth, waterloggingPointsOverThreshold } from './waterlogging.js';

export const KPI_CATALOGUE: readonly KpiDefinition[] = [
  fireResponseCoverage,
  fireResponseTimeP90,
  waterloggingPointsOverThreshold,
  waterloggingMaxDepth,
  parkingOccupancyRate,
  utilityActiveAlarms,
  alertAckSecondsMean,
];

const BY_NAME = new Map(KPI_CATALOGUE.map((k) => [k.name, k]));

export function kpiByName(name: string): KpiDefinition | undefined {
  return BY_NAME.get(name);
}

/** Tag names of each partial family (InfluxDB measurement), from the KPIs that read it. */
export const FAMILY_TAGS: ReadonlyMap<string, readonly string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const k of KPI_CATALOGUE) {
    const tags = m.get(k.family) ?? [];
    for (const t of k.groupTags) if (!tags.includes(t)) tags.push(t);
    m.set(k.family, tags);
  }
  return m;
})();
