/** KPI routes: the catalogue, a value over a range (optionally grouped), and a rolling series. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatRfc3339, parseRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { KPI_CATALOGUE, kpiByName } from '../../kpis/catalogue.js';
import type { KpiDefinition } from '../../kpis/kpi-definition.js';
import { BUCKET_MS } from '../../kpis/partials.js';
import { evaluateKpi, kpiSeries } from '../../kpis/query.js';
import type { AppDeps } from '../app-deps.js';

const STEPS: Record<string, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };
const MAX_SERIES_POINTS = 10_000;
const DEFAULT_RANGE_MS = 24 * 3_600_000;

const rfc3339 = z
  .string()
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-07-21T08:00:00+08:00' });
const range = {
  from: rfc3339.optional().describe('RFC 3339; default: `to` − 24 h'),
  to: rfc3339.optional().describe('RFC 3339, exclusive; default: the end of the current minute of event time'),
};
const nameParams = z.object({ name: z.string().min(1) });

/** `90s`, `5m`, `24h`, `7d` → milliseconds; whole minutes only, as buckets are minutes. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)(m|h|d)$/.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return ms > 0 ? ms : undefined;
}

function catalogueEntry(def: KpiDefinition, deps: AppDeps) {
  const { minuteValue: _ignored, ...rest } = def as KpiDefinition & { minuteValue?: unknown };
  const entry: Record<string, unknown> = { ...rest };
  if (def.family === 'fire_response') entry.clockStart = deps.config.fireClockStart;
  if (def.kind === 'gauge') entry.aggregates = ['last', 'max', 'mean'];
  return entry;
}

function resolveKpi(name: string): KpiDefinition {
  const def = kpiByName(name);
  if (def === undefined) throw new HuitianError('KPI_NOT_FOUND', { name });
  return def;
}

function resolveRange(deps: AppDeps, from: string | undefined, to: string | undefined): [number, number] {
  const end = to !== undefined ? parseRfc3339(to)! : Math.floor(deps.pipeline.engine.clock(deps.wallClock()) / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
  const start = from !== undefined ? parseRfc3339(from)! : end - DEFAULT_RANGE_MS;
  if (!(start < end)) throw new HuitianError('VALIDATION_FAILED', { details: '`from` must be before `to`' });
  return [start, end];
}

export function registerKpiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/v1/kpis', { config: { action: 'read' }, schema: { tags: ['kpis'], summary: 'The KPI catalogue' } }, async () => ({
    items: KPI_CATALOGUE.map((k) => catalogueEntry(k, deps)),
  }));

  r.get(
    '/v1/kpis/:name',
    {
      config: { action: 'read' },
      schema: {
        tags: ['kpis'],
        summary: 'A KPI over [from, to), optionally grouped',
        description:
          'Ratios answer value, numerator, denominator; percentiles value and count; means value, sum, count; gauges value (= last), last, max, mean over the sampled minutes. value is null when nothing was decided in the range.',
        params: nameParams,
        querystring: z.object({ ...range, groupBy: z.string().optional().describe('comma-separated group tags, e.g. district or district,station') }),
      },
    },
    async (request) => {
      const def = resolveKpi(request.params.name);
      const [from, to] = resolveRange(deps, request.query.from, request.query.to);
      const groupBy = (request.query.groupBy ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const g of groupBy) {
        if (!def.groupTags.includes(g)) {
          throw new HuitianError('VALIDATION_FAILED', { details: `groupBy: ${def.name} can be grouped by ${def.groupTags.join(', ')}, not ${g}` });
        }
      }
      const grouping = def.kind === 'gauge' ? (groupBy.length > 0 ? 'bucket-and-tags' : 'bucket') : 'tags';
      const rows = await deps.kpis.partialRows(def.family, from, to, grouping);
      const result = evaluateKpi(def, rows, from, to, groupBy);
      return { ...result, from: formatRfc3339(from), to: formatRfc3339(to) };
    },
  );

  r.get(
    '/v1/kpis/:name/series',
    {
      config: { action: 'read' },
      schema: {
        tags: ['kpis'],
        summary: 'A rolling series: one point per step, each the KPI over the trailing window',
        params: nameParams,
        querystring: z.object({
          ...range,
          step: z.enum(['1m', '5m', '1h', '1d']).default('1h'),
          window: z.string().optional().describe('trailing window per point, e.g. 24h; default = step'),
        }),
      },
    },
    async (request) => {
      const def = resolveKpi(request.params.name);
      const [from, to] = resolveRange(deps, request.query.from, request.query.to);
      const stepMs = STEPS[request.query.step]!;
      const windowMs = request.query.window === undefined ? stepMs : parseWindow(request.query.window);
      if (windowMs === undefined) throw new HuitianError('VALIDATION_FAILED', { details: 'window: must be a whole number of minutes, hours or days, e.g. 5m, 24h, 7d' });
      if ((to - from) / stepMs > MAX_SERIES_POINTS) {
        throw new HuitianError('VALIDATION_FAILED', { details: `the range holds more than ${MAX_SERIES_POINTS} steps; use a larger step` });
      }
      const rows = await deps.kpis.partialRows(def.family, from + stepMs - windowMs, to, 'bucket');
      const points = kpiSeries(def, rows, from, to, stepMs, windowMs).map((p) => ({ ...p, at: formatRfc3339(p.at), from: formatRfc3339(p.from) }));
      return {
        name: def.name,
        kind: def.kind,
        unit: def.unit,
        target: def.target,
        from: formatRfc3339(from),
        to: formatRfc3339(to),
        step: request.query.step,
        window: request.query.window ?? request.query.step,
        points,
      };
    },
  );
}
