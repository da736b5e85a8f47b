/** Probes, metrics and dead letters. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import type { AppDeps } from '../app-deps.js';
import { dateTime, failure, ok, route, text } from '../route-schemas.js';

const health = z.object({ status: z.literal('ok') });
const ready = z.object({
  status: z.literal('ready'),
  checks: z.array(z.string()).describe('The checks that passed: store, influxdb, kafka, nats'),
  stats: z.record(z.string(), z.number().nullable()).describe('Engine counters and sizes; watermark and maxEventTime in epoch ms'),
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
      const problems: Record<string, string> = {};
      for (const c of deps.readiness) {
        try {
          const problem = await c.check();
          if (problem !== null) problems[c.name] = problem;
        } catch (err) {
          problems[c.name] = (err as Error).message;
        }
      }
      if (Object.keys(problems).length > 0) {
        const error = new HuitianError('NOT_READY', { details: Object.entries(problems).map(([k, v]) => `${k}: ${v}`).join('; ') }, { details: problems });
        return reply.code(503).send(error.toBody());
      }
      return { status: 'ready' as const, checks: deps.readiness.map((c) => c.name), stats: { ...deps.pipeline.engine.stats() } };
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
        return { items: page.items.map((d) => ({ ...d, receivedAt: formatRfc3339(d.receivedAt) })), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HuitianError('VALIDATION_FAILED', { details: 'cursor is not one this server issued' });
        throw err;
      }
    },
  );
}
