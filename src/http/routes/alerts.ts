/** Alert routes: list, get, acknowledge, resolve, and the SSE stream. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_CATEGORIES, ALERT_STATUSES, CAP_SEVERITY, SEVERITIES, SEVERITY_LEVEL, toPublicAlert } from '../../alerts/alert.js';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import { streamAlerts } from '../alert-stream.js';
import type { AppDeps } from '../app-deps.js';
import { dateTime, failure, ok, route, text } from '../route-schemas.js';

const historyEntry = z
  .object({
    at: dateTime.describe('Event time of the change'),
    action: z.enum(['opened', 'escalated', 'acknowledged', 'resolved']),
    severity: z.enum(SEVERITIES),
    by: z.string().describe("An operator's name, `event:<id>` (the reading that caused it) or `watermark`"),
    note: z.string().optional(),
    value: z.number().nullable().optional(),
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
    history: z.array(historyEntry),
  })
  .meta({ id: 'Alert', description: '告警：一条规则对一个对象的一次告警及其全部变更记录。An alert with its history.' });

const alertPage = z
  .object({ items: z.array(alertSchema), nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page') })
  .meta({ id: 'AlertPage' });

const listQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional().describe('`active` = open + acknowledged'),
  severity: z.enum(SEVERITIES).optional(),
  category: z.enum(ALERT_CATEGORIES).optional(),
  district: z.string().min(1).optional(),
  entityId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
});

const idParams = z.object({ id: z.string().describe('Alert id, e.g. al_0123456789abcdef0123') });
const operationBody = z.object({
  by: z.string().trim().min(1).max(200).describe('who acts: an operator name or id'),
  note: z.string().max(2000).optional(),
});

export function registerAlertRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/alerts',
    route({
      operationId: 'listAlerts',
      summary: 'List alerts, newest first',
      description: '按时间倒序列出告警，可按状态、颜色、类别、街道与对象筛选，分页返回。',
      tags: ['alerts'],
      action: 'read',
      querystring: listQuery,
      responses: { 200: ok(alertPage, 'A page of alerts'), 400: failure('VALIDATION_FAILED') },
    }),
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
    route({
      operationId: 'streamAlerts',
      summary: 'Server-Sent Events: one `alert` event per transition',
      description:
        '告警实时推送（SSE）：每次告警变更推送一条 `alert` 事件，事件 id 为变更序号；断线后携带 Last-Event-ID（或 ?lastEventId=）重连即可无缝续传。\n\nEach event is `event: alert`, `id: <feed sequence>`, `data: {"action", "alert"}`. EventSource clients that cannot send headers may pass the token as `?access_token=`.',
      tags: ['alerts'],
      action: 'read',
      querystring: z.object({
        lastEventId: z.string().optional().describe('Resume after this feed sequence (same as the Last-Event-ID header)'),
        access_token: z.string().optional().describe('Bearer token, for EventSource clients'),
      }),
      responses: { 200: text('text/event-stream', 'The event stream (never ends by itself)') },
    }),
    (request, reply) => {
      streamAlerts(deps.hub, deps.alerts, request, reply);
    },
  );

  r.get(
    '/v1/alerts/:id',
    route({
      operationId: 'getAlert',
      summary: 'One alert with its history',
      description: '查询一条告警及其全部变更记录。',
      tags: ['alerts'],
      action: 'read',
      params: idParams,
      responses: { 200: ok(alertSchema, 'The alert'), 404: failure('ALERT_NOT_FOUND') },
    }),
    async (request) => {
      const alert = deps.pipeline.engine.activeAlert(request.params.id) ?? deps.alerts.getAlert(request.params.id);
      if (alert === undefined) throw new HuitianError('ALERT_NOT_FOUND', { id: request.params.id });
      return toPublicAlert(alert);
    },
  );

  r.post(
    '/v1/alerts/:id/ack',
    route({
      operationId: 'acknowledgeAlert',
      summary: 'Acknowledge an open alert',
      description: '确认（签收）一条未处理的告警；按事件时间记录操作人与备注。',
      tags: ['alerts'],
      action: 'operate',
      params: idParams,
      body: operationBody,
      responses: { 200: ok(alertSchema, 'The alert after the acknowledgement'), 404: failure('ALERT_NOT_FOUND'), 409: failure('ALERT_TRANSITION_NOT_ALLOWED'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => toPublicAlert(deps.pipeline.acknowledge(request.params.id, request.body.by, request.body.note)),
  );

  r.post(
    '/v1/alerts/:id/resolve',
    route({
      operationId: 'resolveAlert',
      summary: 'Resolve an open or acknowledged alert',
      description: '解除一条未处理或已确认的告警。',
      tags: ['alerts'],
      action: 'operate',
      params: idParams,
      body: operationBody,
      responses: { 200: ok(alertSchema, 'The alert after the resolution'), 404: failure('ALERT_NOT_FOUND'), 409: failure('ALERT_TRANSITION_NOT_ALLOWED'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => toPublicAlert(deps.pipeline.resolve(request.params.id, request.body.by, request.body.note)),
  );
}
