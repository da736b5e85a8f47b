/**
 * The measurable 2030 targets of the district's action plan (《回天地区行动计划（2026—2030 年）》),
 * for `GET /v1/targets` and the console: each with its live value where this service can
 * compute it from the events it receives, and where it cannot, an honest "not measured
 * here" that names the data it would need. Pure: the HTTP route fetches partial rows, this
 * module does the arithmetic.
 *
 * 新增停车位 (new parking spaces) = Σ capacity of the lots now − Σ capacity at the plan's
 * baseline date (2026-04-12, a Beijing date), both from parking readings: the capacity each
 * lot last reported at the newest sampled minute, against the last sampled minute of the
 * baseline day. A lot that first reported after the baseline counts as new spaces, a lot
 * that stopped reporting for 24 h (and left the gauge) as spaces gone — so the figure is
 * only as good as the lots connected to the hub on the baseline day.
 */
import type { GroupValue, KpiResult, PartialRow } from './query.js';

export const PLAN = '回天行动计划（2026—2030 年）';
export const PLAN_EN = 'Huitian action plan (2026–2030)';
/** Start and end of the plan's baseline day, 2026-04-12 in Beijing time (UTC+8 all year). */
export const PARKING_BASELINE_DATE = '2026-04-12';
export const PARKING_BASELINE_FROM = Date.parse('2026-04-12T00:00:00+08:00');
export const PARKING_BASELINE_TO = Date.parse('2026-04-13T00:00:00+08:00');

export type TargetStatus = 'measured' | 'no_data' | 'not_measured';

export interface PlanTarget {
  id: string;
  title: string;
  titleEn: string;
  target: number;
  direction: 'atLeast' | 'atMost';
  unit: string;
  /** How the value is computed here, or what would be needed to compute it. */
  method: string;
  methodEn: string;
}

export interface PlanTargetValue extends PlanTarget {
  status: TargetStatus;
  value: number | null;
  meetsTarget: boolean | null;
  /** Why there is no value: no data yet (`no_data`) or no such data at all here (`not_measured`). */
  reason: string | null;
  reasonEn: string | null;
  /** The figures behind the value. */
  details: Record<string, unknown>;
}

export const COVERAGE_TARGET: PlanTarget = {
  id: 'fire_response_coverage_5min',
  title: '消防救援 5 分钟响应时间覆盖率',
  titleEn: 'Fire and rescue 5-minute response coverage',
  target: 0.8,
  direction: 'atLeast',
  unit: 'ratio',
  method: 'KPI fire_response_coverage_5min 在所选时段（默认近 24 小时事件时间）的值。',
  methodEn: 'The KPI fire_response_coverage_5min over the range (by default the trailing 24 h of event time).',
};

export const NEW_PARKING_TARGET: PlanTarget = {
  id: 'new_parking_spaces',
  title: '新增停车位',
  titleEn: 'New parking spaces',
  target: 10_000,
  direction: 'atLeast',
  unit: 'spaces',
  method: `各停车场最新上报泊位数之和，减去基准日（${PARKING_BASELINE_DATE}，北京时间）最后一次采样的泊位数之和；基准日后才接入的停车场计为新增。`,
  methodEn: `Σ capacity of the lots' latest readings now, minus Σ capacity at the last sampled minute of the baseline day (${PARKING_BASELINE_DATE}, Beijing time); a lot connected after the baseline counts as new.`,
};

/** Targets no event this service receives can measure: what each would need. */
export const UNMEASURED_TARGETS: ReadonlyArray<PlanTarget & { reason: string; reasonEn: string }> = [
  {
    id: 'transit_transfer_within_50m',
    title: '公交与轨道 50 米内换乘比例',
    titleEn: 'Bus–rail transfers within 50 m',
    target: 0.95,
    direction: 'atLeast',
    unit: 'ratio',
    method: '不在本服务计算。',
    methodEn: 'Not computed by this service.',
    reason: '本服务不接收公交站与轨道站出入口的位置及步行路径；需要公交站点与地铁出入口的地理数据（如 GTFS stops 与出入口坐标）计算 50 米内可换乘的站点比例。',
    reasonEn:
      'This service receives no positions of bus stops and rail station entrances, nor walking paths; it would need stop and entrance geodata (e.g. GTFS stops and entrance coordinates) to compute the share of stops within 50 m of a transfer.',
  },
  {
    id: 'rail_share_of_outbound_trips',
    title: '对外出行轨道交通分担率',
    titleEn: 'Rail share of outbound trips',
    target: 0.3,
    direction: 'atLeast',
    unit: 'ratio',
    method: '不在本服务计算。',
    methodEn: 'Not computed by this service.',
    reason: '本服务不接收出行起讫点与交通方式数据；需要出行 OD 数据（如手机信令或一卡通刷卡与路网流量）按方式统计离开回天地区的出行。',
    reasonEn:
      'This service receives no trip origin–destination or mode data; it would need trip OD data (e.g. mobile signalling, transit-card taps and road counts) by mode for trips leaving the district.',
  },
];

function meets(t: PlanTarget, value: number | null): boolean | null {
  if (value === null) return null;
  return t.direction === 'atLeast' ? value >= t.target : value <= t.target;
}

/** The coverage target from the coverage KPI's answer over a range. */
export function coverageTarget(result: KpiResult, range: { from: string; to: string }): PlanTargetValue {
  const value = result.value;
  return {
    ...COVERAGE_TARGET,
    status: value === null ? 'no_data' : 'measured',
    value,
    meetsTarget: meets(COVERAGE_TARGET, value),
    reason: value === null ? '所选时段内没有已判定的火灾或抢险救援警情。' : null,
    reasonEn: value === null ? 'No fire or rescue incident was decided in the range.' : null,
    details: { ...range, covered: result.numerator, decided: result.denominator, byDistrict: result.groups.map((g: GroupValue) => ({ district: g.key.district, value: g.value })) },
  };
}

/** Σ capacity and the number of lots at the newest sampled minute among `rows` (parking, per bucket and lot). */
export function capacityAtLastMinute(rows: readonly PartialRow[]): { bucket: number; capacity: number; lots: number } | null {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) if (r.fields.capacity !== undefined && r.bucket > last) last = r.bucket;
  if (last === Number.NEGATIVE_INFINITY) return null;
  let capacity = 0;
  const lots = new Set<string>();
  for (const r of rows) {
    if (r.bucket !== last || r.fields.capacity === undefined) continue;
    capacity += r.fields.capacity;
    lots.add(r.tags.lot ?? '');
  }
  return { bucket: last, capacity, lots: lots.size };
}

/**
 * 新增停车位 from the parking partials of the newest sampled minute (`now`) and of the
 * baseline day (`baseline`), each per bucket and lot. `format` writes the minutes' times.
 */
export function newParkingSpacesTarget(
  now: readonly PartialRow[],
  baseline: readonly PartialRow[],
  format: (ms: number) => string,
): PlanTargetValue {
  const current = capacityAtLastMinute(now);
  const base = capacityAtLastMinute(baseline);
  const details: Record<string, unknown> = { baselineDate: PARKING_BASELINE_DATE };
  if (current !== null) Object.assign(details, { capacityNow: current.capacity, lotsNow: current.lots, nowMinute: format(current.bucket) });
  if (base !== null) Object.assign(details, { capacityAtBaseline: base.capacity, lotsAtBaseline: base.lots, baselineMinute: format(base.bucket) });
  if (current === null || base === null) {
    const missing = base === null ? `基准日 ${PARKING_BASELINE_DATE}` : '最近 24 小时';
    const missingEn = base === null ? `the baseline day ${PARKING_BASELINE_DATE}` : 'the last 24 hours';
    return {
      ...NEW_PARKING_TARGET,
      status: 'no_data',
      value: null,
      meetsTarget: null,
      reason: `KPI 存储中没有${missing}的停车场读数（huitian.parking.occupancy 的 capacity）；有了两者才能计算新增泊位。`,
      reasonEn: `The KPI store holds no parking readings (capacity of huitian.parking.occupancy) from ${missingEn}; both are needed for new spaces.`,
      details,
    };
  }
  const value = current.capacity - base.capacity;
  return { ...NEW_PARKING_TARGET, status: 'measured', value, meetsTarget: meets(NEW_PARKING_TARGET, value), reason: null, reasonEn: null, details };
}

export function unmeasuredTargets(): PlanTargetValue[] {
  return UNMEASURED_TARGETS.map(({ reason, reasonEn, ...t }) => ({ ...t, status: 'not_measured', value: null, meetsTarget: null, reason, reasonEn, details: {} }));
}
