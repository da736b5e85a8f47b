/**
 * The bodies the API answers with that more than one reader depends on: the routes serialize
 * through these schemas, the OpenAPI document at /docs/json is generated from them, and the
 * console's types are inferred from them (`console/src/state.ts`), so the screen is
 * type-checked against what the service really sends. Only zod and the alert vocabulary are
 * imported here: the console's compiler sees this file and must not pull in Node or fastify.
 */
import { z } from 'zod';
import { ALERT_CATEGORIES, ALERT_STATUSES, CAP_SEVERITY, SEVERITIES, SEVERITY_LEVEL } from '../alerts/alert.js';
import { ROLES } from '../roles.js';

/** An RFC 3339 time in an answer (any offset). */
export const dateTime = z.iso.datetime({ offset: true });

const HISTORY_ACTIONS = ['opened', 'escalated', 'acknowledged', 'reopened', 'resolved', 'unacknowledged', 'escalated_to', 'reminded', 'silenced', 'unsilenced'] as const;

export const historyEntry = z
  .object({
    at: dateTime.describe('Event time of the change'),
    action: z
      .enum(HISTORY_ACTIONS)
      .describe('The engine: opened, escalated, acknowledged, reopened (an ack `until` lapsed), resolved, unacknowledged (resolved with nobody acknowledging). The notification stage: escalated_to, reminded, silenced, unsilenced'),
    severity: z.enum(SEVERITIES),
    by: z.string().describe("An operator's token name, `event:<id>` (the reading that caused it), `watermark`, `ack-timeout`, `escalation:<severity>` or `silence:<id>`"),
    note: z.string().optional(),
    value: z.number().nullable().optional(),
    route: z.string().optional().describe('escalated_to / reminded: the route notified'),
    until: dateTime.optional().describe('acknowledged: when the acknowledgement lapses'),
    wallClockAt: dateTime.optional().describe("An operator's action: the wall-clock time it was done, beside `at` (the stream's event-time clock)"),
  })
  .meta({ id: 'AlertHistoryEntry' });

export const alertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    category: z.enum(ALERT_CATEGORIES),
    entityId: z.string(),
    severity: z.enum(SEVERITIES).describe("China's four warning colours: blue IV, yellow III, orange II, red I"),
    level: z.enum(Object.values(SEVERITY_LEVEL) as [string, ...string[]]),
    capSeverity: z.enum(Object.values(CAP_SEVERITY) as [string, ...string[]]).describe('CAP 1.2 severity'),
    status: z.enum(ALERT_STATUSES),
    title: z.string().describe('Chinese'),
    titleEn: z.string(),
    message: z.string().describe('Chinese'),
    messageEn: z.string(),
    district: z.string(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    openedAt: dateTime,
    updatedAt: dateTime,
    acknowledgedAt: dateTime.nullable(),
    resolvedAt: dateTime.nullable(),
    version: z.number().int().min(1).describe('Number of changes (the length of history); with id, names one state of the alert (idempotency keys, CAP messages)'),
    peakValue: z.number().nullable().describe('The worst reading while active (value is the latest)'),
    peakAt: dateTime.nullable(),
    acknowledgedUntil: dateTime.nullable().describe('The acknowledgement lapses then (event time): the alert is open again'),
    silencedBy: z.string().nullable().describe('Id of the silence holding its notifications back'),
    location: z.object({ lat: z.number(), lon: z.number() }).nullable().describe('WGS 84, when the reading said'),
    history: z.array(historyEntry),
  })
  .meta({ id: 'Alert', description: '告警：一条规则对一个对象的一次告警及其全部变更记录。An alert with its history.' });

export const KPI_KINDS = ['ratio', 'percentile', 'mean', 'gauge'] as const;
export type KpiKind = (typeof KPI_KINDS)[number];
export const nullableNumber = z.number().nullable();

/** The figures beside `value` of each kind, in a result, a group and a series point. */
export const FIGURES = {
  ratio: { numerator: z.number(), denominator: z.number(), unresolved: z.number().optional().describe('Incidents never dispatched, evicted after 24 h') },
  percentile: { count: z.number() },
  mean: { sum: z.number(), count: z.number() },
  gauge: { last: nullableNumber, max: nullableNumber, mean: nullableNumber, samples: z.number().int().describe('Sampled minutes in the range') },
} as const;

const catalogueBase = {
  name: z.string(),
  title: z.string().describe('Chinese'),
  titleEn: z.string(),
  unit: z.string(),
  target: nullableNumber,
  targetDirection: z.enum(['atLeast', 'atMost', 'below']).nullable().describe('How value is compared with target; `below` is strictly less'),
  targetBasis: z.string().describe('Where the target comes from, or why there is none (Chinese)'),
  targetBasisEn: z.string(),
  family: z.string().describe('Partial family = InfluxDB measurement'),
  groupTags: z.array(z.string()).describe('Tags `groupBy` accepts'),
  description: z.string().describe('Chinese'),
  descriptionEn: z.string(),
  clockStart: z.enum(['dispatched', 'received']).optional().describe('Fire KPIs: the response clock start in force'),
};

export const catalogueEntry = z
  .discriminatedUnion('kind', [
    z.object({ ...catalogueBase, kind: z.literal('ratio'), numerator: z.string(), denominator: z.array(z.string()) }),
    z.object({ ...catalogueBase, kind: z.literal('percentile'), quantile: z.number() }),
    z.object({ ...catalogueBase, kind: z.literal('mean'), sumField: z.string(), countField: z.string() }),
    z.object({ ...catalogueBase, kind: z.literal('gauge'), aggregates: z.array(z.enum(['last', 'max', 'mean'])) }),
  ])
  .meta({ id: 'KpiDefinition' });

export const kpiResultBase = {
  name: z.string(),
  unit: z.string(),
  from: dateTime,
  to: dateTime.describe('Exclusive'),
  value: nullableNumber.describe('null when nothing was decided in the range'),
  target: nullableNumber,
  meetsTarget: z.boolean().nullable(),
};

export const groupKey = z.record(z.string(), z.string()).describe('The group: tag → value (`unknown` when a partial has no such tag)');

/** One kind's answer: the figures of that kind beside `value`, overall and per group. */
function kpiValueOf<const K extends KpiKind>(kind: K) {
  return z
    .object({
      ...kpiResultBase,
      kind: z.literal(kind),
      ...FIGURES[kind],
      groups: z.array(z.object({ key: groupKey, value: nullableNumber, ...FIGURES[kind] })).describe('One per group when `groupBy` is given, sorted by key'),
    })
    .meta({ id: `KpiValue_${kind}` });
}

export const kpiResult = z
  .discriminatedUnion('kind', [kpiValueOf('ratio'), kpiValueOf('percentile'), kpiValueOf('mean'), kpiValueOf('gauge')])
  .meta({ id: 'KpiValue' });

export const planTarget = z
  .object({
    id: z.string().describe('fire_response_coverage_5min, new_parking_spaces, transit_transfer_within_50m, rail_share_of_outbound_trips'),
    title: z.string().describe('Chinese'),
    titleEn: z.string(),
    target: z.number(),
    direction: z.enum(['atLeast', 'atMost']),
    unit: z.string(),
    method: z.string().describe('How the value is computed here, or that it is not (Chinese)'),
    methodEn: z.string(),
    status: z.enum(['measured', 'no_data', 'not_measured']).describe('measured; no_data: measurable here, but no data yet; not_measured: no such data reaches this service'),
    value: z.number().nullable(),
    meetsTarget: z.boolean().nullable(),
    reason: z.string().nullable().describe('Why there is no value, and what data it would need (Chinese)'),
    reasonEn: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).describe('The figures behind the value, e.g. capacityNow and capacityAtBaseline'),
  })
  .meta({ id: 'PlanTarget' });

export const statusSchema = z
  .object({
    caller: z.object({ role: z.enum(ROLES), name: z.string() }).nullable().describe("The token's role and name; null with auth off"),
    auth: z.boolean().describe('Whether tokens are configured'),
    timeZone: z.string().describe('HUITIAN_TIMEZONE: the zone times are written in'),
    timeMode: z.enum(['live', 'replay']),
    now: dateTime.describe('The wall clock'),
    ready: z.boolean().describe('Every check passed'),
    checks: z.array(z.object({ name: z.string(), ready: z.boolean(), problem: z.string().nullable() })),
    watermark: dateTime.nullable().describe('Event-time watermark'),
    maxEventTime: dateTime.nullable().describe('Newest event time seen'),
    lagSeconds: z.number().nullable().describe('Wall clock − newest event time: how far behind real time the data is (live)'),
    activeAlerts: z.number().int(),
  })
  .meta({ id: 'Status' });
