/** Probes, metrics and dead letters. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import { formatInZone } from '../../time/time-zone.js';
import type { AppDeps } from '../app-deps.js';
import { dateTime, statusSchema } from '../answer-schemas.js';
import { failure, ok, route, text } from '../route-schemas.js';

const health = z.object({ status: z.literal('ok') });
const ready = z.object({
  status: z.literal('ready'),
  checks: z.array(z.string()).describe('The checks that passed: store, influxdb, kafka, nats'),
  stats: z
    .object({ watermark: dateTime.nullable(), maxEventTime: dateTime.nullable() })
    .catchall(z.number().nullable())
    .describe('Engine counters and sizes; watermark and maxEventTime as RFC 3339 (null before the first event)'),
  cluster: z
    .object({
      tasks: z.array(
        z.object({
          task: z.string().describe('Input partition `<topic>-<partition>`, or `global`'),
          state: z.enum(['active', 'restoring']),
          next: z.string().nullable().describe('Next input offset to apply'),
          lag: z.number().nullable().describe('Records of the partition not yet applied'),
          watermark: dateTime.nullable(),
        }),
      ),
    })
    .optional()
    .describe('Cluster mode (docs/cluster.md): the tasks this instance owns'),
});
const deadLetter = z
  .object({
    seq: z.number().int(),
    receivedAt: dateTime,
    channel: z.string().describe('Where it came from: http, kafka:<topic>:<partition>, nats:<subject>'),
    eventId: z.string().nullable(),
    type: z.string().nullable(),
    reason: z.string().describe('The field and the rule, e.g. data.depthCm: must be ≥ 0'),
    payload: z.string().describe('The record as received (truncated)'),
  })
  .meta({ id: 'DeadLetter' });
const deadLetterPage = z.object({ items: z.array(deadLetter), nextCursor: z.string().nullable() }).meta({ id: 'DeadLetterPage' });

export function registerOperationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/healthz',
    route({
      operationId: 'getHealth',
      summary: 'The process is up',
      description: '存活探针：进程在运行即返回 200。',
      tags: ['operations'],
      action: 'open',
      responses: { 200: ok(health, 'The process is up') },
    }),
    async () => ({ status: 'ok' as const }),
  );

  r.get(
    '/readyz',
    route({
      operationId: 'getReadiness',
      summary: 'Stores and sources are ready',
      description: '就绪探针：存储与数据源均可用时返回 200，否则返回 503 并说明哪一项未就绪。',
      tags: ['operations'],
      action: 'open',
      responses: { 200: ok(ready, 'Every check passed'), 503: failure('NOT_READY') },
    }),
    async (_request, reply) => {
      const checks = await runChecks(deps);
      const problems = Object.fromEntries(checks.filter((c) => c.problem !== null).map((c) => [c.name, c.problem!]));
      if (Object.keys(problems).length > 0) {
        const error = new HuitianError('NOT_READY', { details: Object.entries(problems).map(([k, v]) => `${k}: ${v}`).join('; ') }, { details: problems });
        return reply.code(503).send(error.toBody());
      }
      return { status: 'ready' as const, checks: checks.map((c) => c.name), stats: publicStats(deps), ...(deps.cluster === undefined ? {} : { cluster: deps.cluster.status(deps.config.timeZone) }) };
    },
  );

  r.get(
    '/v1/status',
    route({
      operationId: 'getStatus',
      summary: 'Who is asking, how fresh the data is, and whether each store and source is ready',
      description:
        '控制台状态：调用者（令牌角色与名称）、事件时间水位、最新事件时间及其相对墙上时钟的滞后、各存储与数据源是否就绪。无论是否就绪都返回 200。\n\nFor a screen that must show it is live.',
      tags: ['operations'],
      action: 'read',
      responses: { 200: ok(statusSchema, 'The status') },
    }),
    async (request) => {
      const checks = await runChecks(deps);
      const stats = deps.pipeline.engine.stats();
      const now = deps.wallClock();
      const zone = deps.config.timeZone;
      return {
        caller: request.caller,
        auth: deps.config.tokenIdentities.size > 0,
        timeZone: zone,
        timeMode: deps.config.timeMode,
        now: formatInZone(now, zone),
        ready: checks.every((c) => c.problem === null),
        checks: checks.map((c) => ({ name: c.name, ready: c.problem === null, problem: c.problem })),
        watermark: stats.watermark === null ? null : formatInZone(stats.watermark, zone),
        maxEventTime: stats.maxEventTime === null ? null : formatInZone(stats.maxEventTime, zone),
        lagSeconds: stats.maxEventTime === null ? null : (now - stats.maxEventTime) / 1000,
        activeAlerts: stats.activeAlerts,
      };
    },
  );

  r.get(
    '/metrics',
    route({
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      description: 'Prometheus 指标（文本格式 0.0.4），供采集器抓取；指标名见 README。',
      tags: ['operations'],
      action: 'open',
      responses: { 200: text('text/plain', 'Prometheus text exposition format 0.0.4') },
    }),
    async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );

  r.get(
    '/v1/dead-letters',
    route({
      operationId: 'listDeadLetters',
      summary: 'Rejected events with reason and receive time, newest first',
      description: '死信：被拒收的事件及拒收原因与接收时间，按时间倒序分页。',
      tags: ['operations'],
      action: 'read',
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
      }),
      responses: { 200: ok(deadLetterPage, 'A page of dead letters'), 400: failure('VALIDATION_FAILED') },
    }),
    async (request) => {
      try {
        const page = deps.deadLetters.listDeadLetters(request.query.limit, request.query.cursor);
        return { items: page.items.map((d) => ({ ...d, receivedAt: formatInZone(d.receivedAt, deps.config.timeZone) })), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HuitianError('VALIDATION_FAILED', { details: 'cursor is not one this server issued' });
        throw err;
      }
    },
  );
}

/** Every readiness check, with its problem (null when ready); a check that throws is not ready. */
async function runChecks(deps: AppDeps): Promise<Array<{ name: string; problem: string | null }>> {
  const out: Array<{ name: string; problem: string | null }> = [];
  for (const c of deps.readiness) {
    try {
      out.push({ name: c.name, problem: await c.check() });
    } catch (err) {
      out.push({ name: c.name, problem: (err as Error).message });
    }
  }
  return out;
}

/** The engine's counters, its times written as RFC 3339 in the configured zone. */
function publicStats(deps: AppDeps) {
  const stats = deps.pipeline.engine.stats();
  const zone = deps.config.timeZone;
  return {
    ...stats,
    watermark: stats.watermark === null ? null : formatInZone(stats.watermark, zone),
    maxEventTime: stats.maxEventTime === null ? null : formatInZone(stats.maxEventTime, zone),
  };
}
