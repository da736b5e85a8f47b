/**
 * What a KPI is, for the catalogue (`GET /v1/kpis`) and for the query code that turns
 * merged partial fields into a value.
 */
import type { RulesConfig } from '../alerts/rules-config.js';
import type { Fields } from './partials.js';

export type KpiKind = 'ratio' | 'percentile' | 'gauge' | 'mean';

interface KpiBase {
  name: string;
  /** Chinese title first: the operators read Chinese. */
  title: string;
  titleEn: string;
  unit: string;
  /** Target value, or null when the KPI has none (then `targetBasis` says why). */
  target: number | null;
  /** How `value` is compared with `target`: `below` is strictly less. */
  targetDirection: 'atLeast' | 'atMost' | 'below' | null;
  /** Where the target comes from, or why there is none (中文, then English). */
  targetBasis: string;
  targetBasisEn: string;
  /** A target that follows the rules' configuration (e.g. the yellow depth); replaces `target`. */
  targetOf?: (rules: RulesConfig) => number;
  /** Partial family (InfluxDB measurement) the KPI is computed from. */
  family: string;
  /** Tags a query may group by. */
  groupTags: readonly string[];
  description: string;
  descriptionEn: string;
}

export interface RatioKpi extends KpiBase {
  kind: 'ratio';
  numerator: string;
  /** Fields summed into the denominator. */
  denominator: readonly string[];
}

export interface PercentileKpi extends KpiBase {
  kind: 'percentile';
  quantile: number;
}

export interface MeanKpi extends KpiBase {
  kind: 'mean';
  sumField: string;
  countField: string;
}

export interface GaugeKpi extends KpiBase {
  kind: 'gauge';
  /** Value of one sampled minute from the fields merged over the group; null if undefined. */
  minuteValue: (fields: Readonly<Fields>) => number | null;
  /** The fields minuteValue reads: all a store needs to fetch per minute. */
  minuteFields: readonly string[];
  /**
   * The stored field whose value in a minute partial of one series is that series' minute
   * value (null: absent), so that a store can aggregate it per series (kpis/gauge-rollups.ts).
   */
  entitySeriesField?: string;
  /** The stored fixedPoint of that value (kpis/query.ts); none when the value is an integer. */
  entitySeriesFixedField?: string;
}

export type KpiDefinition = RatioKpi | PercentileKpi | MeanKpi | GaugeKpi;

/** The definition with its target as configured (see `targetOf`); the same object when fixed. */
export function withConfiguredTarget<K extends KpiDefinition>(def: K, rules: RulesConfig): K {
  return def.targetOf === undefined ? def : { ...def, target: def.targetOf(rules) };
}
