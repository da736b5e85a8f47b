/** Alert routes: list, get, acknowledge, resolve, and the SSE stream. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_CATEGORIES, SEVERITIES, toPublicAlert } from '../../alerts/alert.js';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import { streamAlerts } from '../alert-stream.js';
import type { AppDeps } from '../app-deps.js';

const listQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional().describe('`active` = open + acknowledged'),
  severity: z.enum(SEVERITIES).optional(),
  category: z.enum(ALERT_CATEGORIES).optional(),
  district: z.string().min(1).optional(),
  entityId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
});

const idParams = z.object({ id: z.string().min(1) });
const operationBody = z.object({
  by: z.string().trim().min(1).max(200).describe('who acts: an operator name or id'),
  note: z.string().max(2000).optional(),
});

export function registerAlertRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/alerts',
    { config: { action: 'read' }, schema: { tags: ['alerts'], summary: 'List alerts, newest first', querystring: listQuery } },
    async (request) => {
      try {
        const page = deps.alerts.listAlerts(request.query);
        return { items: page.items.map(toPublicAlert), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HuitianError('VALIDATION_FAILED', { details: 'cursor is not one this server issued' });
        throw err;
      }
    },
  );

  r.get(
    '/v1/alerts/stream',
    {
      config: { action: 'read' },
      schema: {
        tags: ['alerts'],
        summary: 'Server-Sent Events: one `alert` event per transition',
        description: 'Each event id is a feed sequence; reconnect with Last-Event-ID (or ?lastEventId=) to resume without gaps.',
        querystring: z.object({ lastEventId: z.string().optional(), access_token: z.string().optional() }),
      },
    },
    (request, reply) => {
      streamAlerts(deps.hub, deps.alerts, request, reply);
    },
  );

  r.get('/v1/alerts/:id', { config: { action: 'read' }, schema: { tags: ['alerts'], summary: 'One alert with its history', params: idParams } }, async (request) => {
    const alert = deps.pipeline.engine.activeAlert(request.params.id) ?? deps.alerts.getAlert(request.params.id);
    if (alert === undefined) throw new HuitianError('ALERT_NOT_FOUND', { id: request.params.id });
    return toPublicAlert(alert);
  });

  r.post(
    '/v1/alerts/:id/ack',
    { config: { action: 'operate' }, schema: { tags: ['alerts'], summary: 'Acknowledge an open alert', params: idParams, body: operationBody } },
    async (request) => toPublicAlert(deps.pipeline.acknowledge(request.params.id, request.body.by, request.body.note)),
  );

  r.post(
    '/v1/alerts/:id/resolve',
    { config: { action: 'operate' }, schema: { tags: ['alerts'], summary: 'Resolve an open or acknowledged alert', params: idParams, body: operationBody } },
    async (request) => toPublicAlert(deps.pipeline.resolve(request.params.id, request.body.by, request.body.note)),
  );
}
