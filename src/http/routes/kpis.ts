/** KPI routes: the catalogue, a value over a range (optionally grouped), and a rolling series. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { KPI_CATALOGUE, kpiByName } from '../../kpis/catalogue.js';
import { withConfiguredTarget, type KpiDefinition } from '../../kpis/kpi-definition.js';
import { BUCKET_MS } from '../../kpis/partials.js';
import { evaluateGaugeParts, evaluateKpi, kpiSeries, type GaugeParts, type PartialRow } from '../../kpis/query.js';
import type { GaugeKpi } from '../../kpis/kpi-definition.js';
import type { KpiReader } from '../../ports.js';
import { formatInZone } from '../../time/time-zone.js';
import type { AppDeps } from '../app-deps.js';
import { catalogueEntry, dateTime, FIGURES, KPI_KINDS, kpiResult, nullableNumber } from '../answer-schemas.js';
import { dateTimeParam, failure, ok, route } from '../route-schemas.js';

const STEPS: Record<string, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };
const MAX_SERIES_POINTS = 10_000;
/** A series point's trailing window: at most a month (a rolling 30-day figure fits). */
const MAX_WINDOW_MS = 31 * 86_400_000;
/**
 * A gauge series visits every minute of every point's window (last/max/mean do not slide):
 * points × window minutes is bounded so that one request cannot hold the event loop for
 * minutes (schemathesis found window=99999999d doing so).
 */
const MAX_GAUGE_SERIES_MINUTES = 20_000_000;
const DEFAULT_RANGE_MS = 24 * 3_600_000;

export const range = {
  from: dateTimeParam.optional().describe('RFC 3339 with any offset; default: `to` − 24 h'),
  to: dateTimeParam.optional().describe('RFC 3339 with any offset, exclusive; default: the end of the current minute of event time'),
};
const nameParams = z.object({ name: z.string().describe('KPI name, e.g. fire_response_coverage_5min (GET /v1/kpis lists them)') });

// --- answer schemas -------------------------------------------------------------------



const catalogue = z.object({ items: z.array(catalogueEntry) }).meta({ id: 'KpiCatalogue' });

const kpiSeriesAnswer = z
  .discriminatedUnion(
    'kind',
    KPI_KINDS.map((kind) =>
      z
        .object({
          name: z.string(),
          kind: z.literal(kind),
          unit: z.string(),
          target: nullableNumber,
          from: dateTime,
          to: dateTime,
          step: z.enum(['1m', '5m', '1h', '1d']),
          window: z.string(),
          points: z.array(z.object({ at: dateTime.describe('End of the window (exclusive)'), from: dateTime, value: nullableNumber, ...FIGURES[kind] })),
        })
        .meta({ id: `KpiSeries_${kind}` }),
    ) as unknown as [z.ZodObject, z.ZodObject, z.ZodObject, z.ZodObject],
  )
  .meta({ id: 'KpiSeries' });

/** `90s`, `5m`, `24h`, `7d` → milliseconds; whole minutes only, as buckets are minutes. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)(m|h|d)$/.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return ms > 0 ? ms : undefined;
}

function catalogueEntryOf(def: KpiDefinition, deps: AppDeps) {
  // What the stores need to read a gauge (kpis/gauge-rollups.ts) is no part of the catalogue.
  const {
    minuteValue: _ignored,
    targetOf: _resolved,
    minuteFields: _fields,
    entitySeriesField: _series,
    entitySeriesFixedField: _fixed,
    ...rest
  } = withConfiguredTarget(def, deps.config.rules) as KpiDefinition & { minuteValue?: unknown; minuteFields?: unknown; entitySeriesField?: unknown; entitySeriesFixedField?: unknown };
  const entry: Record<string, unknown> = { ...rest };
  if (def.family === 'fire_response') entry.clockStart = deps.config.fireClockStart;
  if (def.kind === 'gauge') entry.aggregates = ['last', 'max', 'mean'];
  return entry;
}

function resolveKpi(name: string, deps: AppDeps): KpiDefinition {
  const def = kpiByName(name);
  if (def === undefined) throw new HuitianError('KPI_NOT_FOUND', { name });
  return withConfiguredTarget(def, deps.config.rules);
}

export function resolveRange(deps: AppDeps, from: string | undefined, to: string | undefined): [number, number] {
  const end = to !== undefined ? parseRfc3339(to)! : Math.floor((deps.cluster?.clock() ?? deps.pipeline.engine.clock(deps.wallClock())) / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
  const start = from !== undefined ? parseRfc3339(from)! : end - DEFAULT_RANGE_MS;
  if (!(start < end)) throw new HuitianError('VALIDATION_FAILED', { details: '`from` must be before `to`' });
  return [start, end];
}

/**
 * Partial rows from the KPI store. A store that times out or refuses (InfluxDB away or
 * overloaded) is a 503 the client may retry, never a 500: the request was fine.
 */
export async function readPartials(deps: AppDeps, request: FastifyRequest, ...args: Parameters<KpiReader['partialRows']>): Promise<PartialRow[]> {
  try {
    return await deps.kpis.partialRows(...args);
  } catch (err) {
    request.log.warn({ err, family: args[0] }, 'KPI store query failed');
    throw new HuitianError('STORE_UNAVAILABLE', { details: `the KPI store did not answer: ${(err as Error).message}` }, { cause: err });
  }
}

/** A gauge's parts from a store that aggregates per series (InfluxDB), or undefined for the others. */
async function readGaugeParts(deps: AppDeps, request: FastifyRequest, def: GaugeKpi, from: number, to: number, groupBy: readonly string[]): Promise<GaugeParts | undefined> {
  const kpis = deps.kpis;
  if (kpis.gaugeParts === undefined) return undefined;
  try {
    return await kpis.gaugeParts(def, from, to, groupBy);
  } catch (err) {
    request.log.warn({ err, family: def.family }, 'KPI store query failed');
    throw new HuitianError('STORE_UNAVAILABLE', { details: `the KPI store did not answer: ${(err as Error).message}` }, { cause: err });
  }
}

export function registerKpiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/kpis',
    route({
      operationId: 'listKpis',
      summary: 'The KPI catalogue',
      description: '指标目录：每项指标的名称、中英文标题、单位、目标值及其依据（无目标时说明原因）、类型、可分组标签与口径说明。',
      tags: ['kpis'],
      action: 'read',
      responses: { 200: ok(catalogue, 'Every KPI the service computes') },
    }),
    async () => ({ items: KPI_CATALOGUE.map((k) => catalogueEntryOf(k, deps)) }),
  );

  r.get(
    '/v1/kpis/:name',
    route({
      operationId: 'getKpi',
      summary: 'A KPI over [from, to), optionally grouped',
      description:
        '某项指标在 [from, to) 内的值，可按街道等标签分组；分片求和后再相除，任意区间、任意分组都精确。\n\nRatios answer value, numerator, denominator; percentiles value and count; means value, sum, count; gauges value (= last), last, max, mean over the sampled minutes. value is null when nothing was decided in the range.',
      tags: ['kpis'],
      action: 'read',
      params: nameParams,
      querystring: z.object({ ...range, groupBy: z.string().optional().describe('comma-separated group tags, e.g. district or district,station') }),
      responses: { 200: ok(kpiResult, 'The KPI over the range'), 404: failure('KPI_NOT_FOUND'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => {
      const def = resolveKpi(request.params.name, deps);
      const [from, to] = resolveRange(deps, request.query.from, request.query.to);
      const groupBy = (request.query.groupBy ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const g of groupBy) {
        if (!def.groupTags.includes(g)) {
          throw new HuitianError('VALIDATION_FAILED', { details: `groupBy: ${def.name} can be grouped by ${def.groupTags.join(', ')}, not ${g}` });
        }
      }
      const parts = def.kind === 'gauge' ? await readGaugeParts(deps, request, def, from, to, groupBy) : undefined;
      let result;
      if (parts !== undefined) {
        result = evaluateGaugeParts(def as GaugeKpi, parts, from, to, groupBy);
      } else {
        const grouping = def.kind === 'gauge' ? (groupBy.length > 0 ? 'bucket-and-tags' : 'bucket') : 'tags';
        result = evaluateKpi(def, await readPartials(deps, request, def.family, from, to, grouping), from, to, groupBy);
      }
      const zone = deps.config.timeZone;
      return { ...result, from: formatInZone(from, zone), to: formatInZone(to, zone) };
    },
  );

  r.get(
    '/v1/kpis/:name/series',
    route({
      operationId: 'getKpiSeries',
      summary: 'A rolling series: one point per step, each the KPI over the trailing window',
      description: '指标滚动序列：每个步长一个点，每点为截至该时刻的滑动窗口（如 24 小时）内的指标值。',
      tags: ['kpis'],
      action: 'read',
      params: nameParams,
      querystring: z.object({
        ...range,
        step: z.enum(['1m', '5m', '1h', '1d']).default('1h'),
        window: z
          .string()
          .regex(/^0*[1-9]\d*[mhd]$/, { message: 'must be a whole number of minutes, hours or days, e.g. 5m, 24h, 7d' })
          .optional()
          .describe('trailing window per point, whole minutes, hours or days, e.g. 24h; default = step'),
      }),
      responses: { 200: ok(kpiSeriesAnswer, 'The series'), 404: failure('KPI_NOT_FOUND'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => {
      const def = resolveKpi(request.params.name, deps);
      const [from, to] = resolveRange(deps, request.query.from, request.query.to);
      const stepMs = STEPS[request.query.step]!;
      const windowMs = request.query.window === undefined ? stepMs : parseWindow(request.query.window);
      if (windowMs === undefined) throw new HuitianError('VALIDATION_FAILED', { details: 'window: must be a whole number of minutes, hours or days, e.g. 5m, 24h, 7d' });
      if ((to - from) / stepMs > MAX_SERIES_POINTS) {
        throw new HuitianError('VALIDATION_FAILED', { details: `the range holds more than ${MAX_SERIES_POINTS} steps; use a larger step` });
      }
      if (windowMs > MAX_WINDOW_MS) throw new HuitianError('VALIDATION_FAILED', { details: 'window: at most 31d' });
      if (def.kind === 'gauge' && ((to - from) / stepMs) * (windowMs / BUCKET_MS) > MAX_GAUGE_SERIES_MINUTES) {
        throw new HuitianError('VALIDATION_FAILED', { details: 'a gauge series visits every minute of every window: use a larger step, a smaller window or a shorter range' });
      }
      const parts = def.kind === 'gauge' ? await readGaugeParts(deps, request, def, from + stepMs - windowMs, to, []) : undefined;
      const rows = parts !== undefined ? parts.overall : await readPartials(deps, request, def.family, from + stepMs - windowMs, to, 'bucket');
      const zone = deps.config.timeZone;
      const points = kpiSeries(def, rows, from, to, stepMs, windowMs).map((p) => ({ ...p, at: formatInZone(p.at, zone), from: formatInZone(p.from, zone) }));
      return {
        name: def.name,
        kind: def.kind,
        unit: def.unit,
        target: def.target,
        from: formatInZone(from, zone),
        to: formatInZone(to, zone),
        step: request.query.step,
        window: request.query.window ?? request.query.step,
        points,
      };
    },
  );
}
