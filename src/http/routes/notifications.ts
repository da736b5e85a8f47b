/** Alert delivery routes (issue 12): the notification outbox and silences. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_CATEGORIES } from '../../alerts/alert.js';
import { parseRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { silenceState, type Silence } from '../../notifications/silences.js';
import type { StoredDelivery } from '../../ports.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import { formatInZone } from '../../time/time-zone.js';
import type { AppDeps } from '../app-deps.js';
import { bearerToken } from '../auth.js';
import { dateTime, dateTimeParam, failure, ok, route } from '../route-schemas.js';

const rfc3339 = dateTimeParam;

const silenceSchema = z
  .object({
    id: z.string(),
    matchers: z.object({ entityId: z.string().optional(), district: z.string().optional(), rule: z.string().optional(), category: z.string().optional() }),
    startsAt: dateTime.describe('event time'),
    endsAt: dateTime.describe('event time'),
    comment: z.string(),
    createdBy: z.string().describe("the caller's token: role#fingerprint, or `local` with auth off"),
    createdAt: dateTime.describe("the stream's event-time clock when it was created"),
    state: z.enum(['pending', 'active', 'expired']).describe("at the stream's event-time clock"),
  })
  .meta({ id: 'Silence' });

const deliverySchema = z
  .object({
    deliveryId: z.string(),
    notificationId: z.string(),
    idempotencyKey: z.string().describe('`<alert id>:<version>`, or the notification id for a group'),
    receiver: z.string(),
    route: z.string(),
    reason: z.enum(['transitions', 'escalation', 'reminder']),
    at: dateTime.describe('event time of the decision'),
    alertIds: z.array(z.string()),
    contentType: z.string(),
    state: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: dateTime.nullable().describe('wall-clock time of the next attempt, while pending'),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: dateTime.describe('wall-clock time it was queued'),
    deliveredAt: dateTime.nullable(),
  })
  .meta({ id: 'NotificationDelivery' });

const silenceBody = z.object({
  matchers: z
    .strictObject({
      entityId: z.string().min(1).optional(),
      district: z.string().min(1).optional(),
      rule: z.string().min(1).optional(),
      category: z.enum(ALERT_CATEGORIES).optional(),
    })
    .refine((m) => Object.values(m).some((v) => v !== undefined), { error: 'give at least one of entityId, district, rule, category' }),
  startsAt: rfc3339.optional().describe('event time; default: the stream’s event-time clock now'),
  endsAt: rfc3339.describe('event time'),
  comment: z.string().max(2000).default(''),
});

/**
 * Who is calling, for `createdBy`: the token's role and a fingerprint of it (never the
 * token itself), or `local` with authentication off.
 */
export function callerOf(request: FastifyRequest, deps: AppDeps): string {
  const token = bearerToken(request.headers.authorization);
  if (token === undefined) return 'local';
  const role = deps.config.tokenRoles.get(token);
  if (role === undefined) return 'local';
  return `${role}#${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}

/**
 * A silence's state is shown at the stream's event-time clock (what an operator's "now"
 * is: a silence from now is active at once), while the stage applies it as the watermark
 * passes its edges.
 */
function streamClock(deps: AppDeps): number {
  return deps.cluster?.clock() ?? deps.pipeline.engine.clock(deps.wallClock());
}

/** `zone`: times written in HUITIAN_TIMEZONE, as everywhere in the API. */
function publicSilence(s: Silence, watermark: number, zone: string) {
  return {
    id: s.id,
    matchers: s.matchers,
    startsAt: formatInZone(s.startsAt, zone),
    endsAt: formatInZone(s.endsAt, zone),
    comment: s.comment,
    createdBy: s.createdBy,
    createdAt: formatInZone(s.createdAt, zone),
    state: silenceState(s, watermark),
  };
}

function publicDelivery(d: StoredDelivery, zone: string): z.input<typeof deliverySchema> {
  return {
    deliveryId: d.deliveryId,
    notificationId: d.notificationId,
    idempotencyKey: d.idempotencyKey,
    receiver: d.receiver,
    route: d.route,
    reason: d.reason as 'transitions' | 'escalation' | 'reminder',
    at: formatInZone(d.eventAt, zone),
    alertIds: d.alertIds,
    contentType: d.contentType,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.state === 'pending' ? formatInZone(d.nextAttemptAt, zone) : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: formatInZone(d.createdAt, zone),
    deliveredAt: d.deliveredAt === null ? null : formatInZone(d.deliveredAt, zone),
  };
}

export function registerNotificationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/notifications',
    route({
      operationId: 'listNotifications',
      summary: 'Deliveries of notifications and their state, newest first',
      description: '通知投递记录及其状态（按时间倒序）：每条通知对每个接收方一行。`at` 为决定通知的事件时间，投递时间为墙上时间。',
      tags: ['notifications'],
      action: 'read',
      querystring: z.object({
        state: z.enum(['pending', 'delivered', 'failed']).optional(),
        receiver: z.string().min(1).optional(),
        alertId: z.string().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z.string().min(1).optional(),
      }),
      responses: { 200: ok(z.object({ items: z.array(deliverySchema), nextCursor: z.string().nullable() }).meta({ id: 'NotificationDeliveryPage' }), 'A page of deliveries') },
    }),
    async (request) => {
      try {
        const page = deps.store.listDeliveries(request.query);
        return { items: page.items.map((d) => publicDelivery(d, deps.config.timeZone)), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HuitianError('VALIDATION_FAILED', { details: 'cursor is not one this server issued' });
        throw err;
      }
    },
  );

  r.post(
    '/v1/silences',
    route({
      operationId: 'createSilence',
      summary: 'Create a silence (maintenance window)',
      description: '创建静默（维护窗口）：匹配的告警照常生成与存储，但不通知、不升级；静默结束时仍生效的告警再通知。',
      tags: ['silences'],
      action: 'operate',
      body: silenceBody,
      responses: { 201: ok(silenceSchema, 'The silence'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request, reply) => {
      const b = request.body;
      const input = {
        matchers: b.matchers,
        startsAt: b.startsAt === undefined ? undefined : parseRfc3339(b.startsAt)!,
        endsAt: parseRfc3339(b.endsAt)!,
        comment: b.comment,
      };
      // Cluster mode: a command to the global stage, which owns the notification stage (docs/cluster.md §10).
      const silence = deps.cluster !== undefined ? await deps.cluster.createSilence(input, callerOf(request, deps)) : deps.pipeline.createSilence(input, callerOf(request, deps));
      void reply.code(201);
      return publicSilence(silence, streamClock(deps), deps.config.timeZone);
    },
  );

  r.get(
    '/v1/silences',
    route({
      operationId: 'listSilences',
      summary: 'Silences, newest first, with their state at the stream clock',
      description: '静默列表（按创建倒序），状态按数据流的事件时间时钟计算。',
      tags: ['silences'],
      action: 'read',
      querystring: z.object({ state: z.enum(['pending', 'active', 'expired']).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      responses: { 200: ok(z.object({ items: z.array(silenceSchema) }).meta({ id: 'SilenceList' }), 'The silences') },
    }),
    async (request) => {
      const wm = streamClock(deps);
      const items = deps.store.listSilences(request.query.state === undefined ? request.query.limit : 10_000).map((s) => publicSilence(s, wm, deps.config.timeZone));
      return { items: (request.query.state === undefined ? items : items.filter((s) => s.state === request.query.state)).slice(0, request.query.limit) };
    },
  );

  r.get(
    '/v1/silences/:id',
    route({
      operationId: 'getSilence',
      summary: 'One silence',
      description: '查询一条静默。',
      tags: ['silences'],
      action: 'read',
      params: z.object({ id: z.string().min(1) }),
      responses: { 200: ok(silenceSchema, 'The silence'), 404: failure('SILENCE_NOT_FOUND') },
    }),
    async (request) => {
      const s = deps.store.getSilence(request.params.id);
      if (s === undefined) throw new HuitianError('SILENCE_NOT_FOUND', { id: request.params.id });
      return publicSilence(s, streamClock(deps), deps.config.timeZone);
    },
  );

  r.delete(
    '/v1/silences/:id',
    route({
      operationId: 'expireSilence',
      summary: 'Expire a silence now (event time); alerts it held back are notified',
      description: '立即结束一条静默（按事件时间）；其间被静默且仍生效的告警随即通知。',
      tags: ['silences'],
      action: 'operate',
      params: z.object({ id: z.string().min(1) }),
      responses: { 200: ok(silenceSchema, 'The silence, ended'), 404: failure('SILENCE_NOT_FOUND'), 503: failure('STORE_UNAVAILABLE') },
    }),
    async (request) => {
      const s = deps.cluster !== undefined ? await deps.cluster.expireSilence(request.params.id) : deps.pipeline.expireSilence(request.params.id);
      if (s === undefined) throw new HuitianError('SILENCE_NOT_FOUND', { id: request.params.id });
      return publicSilence(s, Math.max(streamClock(deps), s.endsAt), deps.config.timeZone);
    },
  );
}
