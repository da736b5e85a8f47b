/** Probes, metrics and dead letters. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import type { AppDeps } from '../app-deps.js';

export function registerOperationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/healthz', { config: { action: 'probe' }, schema: { tags: ['operations'], summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  r.get('/readyz', { config: { action: 'probe' }, schema: { tags: ['operations'], summary: 'Stores and sources are ready' } }, async (_request, reply) => {
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
    return { status: 'ready', checks: deps.readiness.map((c) => c.name), stats: deps.pipeline.engine.stats() };
  });

  r.get('/metrics', { config: { action: 'probe' }, schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  r.get(
    '/v1/dead-letters',
    {
      config: { action: 'read' },
      schema: {
        tags: ['operations'],
        summary: 'Rejected events with reason and receive time, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().min(1).optional() }),
      },
    },
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
