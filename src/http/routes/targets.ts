/** `GET /v1/targets`: the action plan's measurable targets, each with its live value or why there is none. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fireResponseCoverage } from '../../kpis/fire-response.js';
import { PARKING_FAMILY } from '../../kpis/parking.js';
import {
  coverageTarget,
  newParkingSpacesTarget,
  PARKING_BASELINE_FROM,
  PARKING_BASELINE_TO,
  PLAN,
  PLAN_EN,
  unmeasuredTargets,
} from '../../kpis/plan-targets.js';
import { BUCKET_MS } from '../../kpis/partials.js';
import { evaluateKpi } from '../../kpis/query.js';
import { formatInZone } from '../../time/time-zone.js';
import type { AppDeps } from '../app-deps.js';
import { dateTime, planTarget } from '../answer-schemas.js';
import { failure, ok, route } from '../route-schemas.js';
import { range, readPartials, resolveRange } from './kpis.js';

const DAY_MS = 24 * 3_600_000;

const targetsAnswer = z
  .object({ plan: z.string(), planEn: z.string(), from: dateTime, to: dateTime.describe('Exclusive'), items: z.array(planTarget) })
  .meta({ id: 'PlanTargets' });

export function registerTargetRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/v1/targets',
    route({
      operationId: 'listPlanTargets',
      summary: "The action plan's measurable 2030 targets with their live values",
      description:
        '回天行动计划（2026—2030 年）的可量化目标：能在本服务计算的给出实时值与是否达标，不能计算的说明原因及所需数据。\n\nCoverage is over [from, to) (default: the trailing 24 h of event time); new parking spaces compare the newest sampled minute before `to` with the baseline day 2026-04-12.',
      tags: ['kpis'],
      action: 'read',
      querystring: z.object(range),
      responses: { 200: ok(targetsAnswer, 'Every target'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => {
      const zone = deps.config.timeZone;
      const format = (ms: number) => formatInZone(ms, zone);
      const [from, to] = resolveRange(deps, request.query.from, request.query.to);
      const fireRows = await readPartials(deps, request, fireResponseCoverage.family, from, to, 'tags');
      const coverage = evaluateKpi(fireResponseCoverage, fireRows, from, to, ['district']);
      return {
        plan: PLAN,
        planEn: PLAN_EN,
        from: format(from),
        to: format(to),
        items: [
          coverageTarget(coverage, { from: format(from), to: format(to) }),
          newParkingSpacesTarget(
            await lastMinuteRows(deps, request, to - DAY_MS, to),
            await lastMinuteRows(deps, request, PARKING_BASELINE_FROM, PARKING_BASELINE_TO),
            format,
          ),
          ...unmeasuredTargets(),
        ],
      };
    },
  );
}

/**
 * The parking partials (per lot) of the newest sampled minute in [from, to): found on the
 * per-minute totals first, so only one minute is read lot by lot whatever the number of lots.
 */
async function lastMinuteRows(deps: AppDeps, request: FastifyRequest, from: number, to: number) {
  const totals = await readPartials(deps, request, PARKING_FAMILY, from, to, 'bucket');
  let last = Number.NEGATIVE_INFINITY;
  for (const row of totals) if (row.fields.capacity !== undefined && row.bucket > last) last = row.bucket;
  if (last === Number.NEGATIVE_INFINITY) return [];
  return readPartials(deps, request, PARKING_FAMILY, last, last + BUCKET_MS, 'bucket-and-tags');
}
