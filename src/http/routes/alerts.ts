/** Alert routes: list, get (JSON or CAP), acknowledge, resolve, the SSE stream, the summary and the CAP feed. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALERT_CATEGORIES, ALERT_STATUSES, CAP_SEVERITY, SEVERITIES, SEVERITY_LEVEL, toPublicAlert, type Alert } from '../../alerts/alert.js';
import { renderAtomFeed } from '../../cap/cap-message.js';
import { parseRfc3339 } from '../../events/event-time.js';
import { HuitianError } from '../../errors.js';
import { InvalidCursorError } from '../../sqlite/embedded-store.js';
import { streamAlerts } from '../alert-stream.js';
import type { AppDeps } from '../app-deps.js';
import { alertSchema } from '../answer-schemas.js';
import { dateTimeParam, failure, ok, route, text, type ResponseSpec } from '../route-schemas.js';


/** GET /v1/alerts/:id: in cluster mode the alert also names the task that owns it (docs/cluster.md §4). */
const ownedAlertSchema = alertSchema
  .extend({ task: z.string().nullable().optional().describe('Cluster mode: the task (input partition, or `global`) that owns the alert; ack and resolve go to it') })
  .meta({ id: 'OwnedAlert' });

/** Cluster mode: the command reached the owning task, whose answer the alert view does not show yet. */
const pendingSchema = z
  .object({
    status: z.literal('pending'),
    alertId: z.string(),
    requestId: z.string().describe('Identifies the command in the owning task’s log'),
    follow: z.string().describe('Where to follow the alert: GET this path, or watch /v1/alerts/stream'),
  })
  .meta({ id: 'PendingOperation', description: '集群模式：操作已写入告警所属任务的输入，尚未在告警视图中体现。The command is in the owning task’s input; follow the alert.' });

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
const operationFields = {
  by: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("With auth on, not who acts: `by` is the token's name, and a different `by` is kept in the note as `[by: …]`. With auth off (loopback), who acts"),
  note: z.string().max(2000).optional(),
};
// A POST with no body at all (an ack with nothing to add) reads as `{}`.
const noBodyAsEmpty = (v: unknown) => v ?? {};
const operationBody = z.preprocess(noBodyAsEmpty, z.object(operationFields));
const ackBody = z.preprocess(
  noBodyAsEmpty,
  z.object({
    ...operationFields,
    until: dateTimeParam.optional().describe('Event time when the acknowledgement lapses: the alert is then open again and notified (ack timeout)'),
  }),
);

/** Recorded with auth off when the body names nobody. */
export const ANONYMOUS_OPERATOR = 'loopback';

/**
 * Who an acknowledgement or resolve is recorded as. With tokens it is the token's name, so
 * a body cannot claim someone else's; what it claimed stays readable in the note (a shared
 * duty-room token whose user signs the note loses nothing). With auth off, nobody is
 * authenticated and the body's `by` is all there is.
 */
export function operatorOf(request: FastifyRequest, body: { by?: string; note?: string }): { by: string; note: string | undefined } {
  const caller = request.caller;
  if (caller === null) return { by: body.by ?? ANONYMOUS_OPERATOR, note: body.note };
  if (body.by === undefined || body.by === caller.name) return { by: caller.name, note: body.note };
  const claim = `[by: ${body.by}]`;
  return { by: caller.name, note: body.note === undefined || body.note === '' ? claim : `${claim} ${body.note}` };
}

const CAP_TYPE = 'application/cap+xml';
const capMessage: ResponseSpec = text(CAP_TYPE, 'The alert as an OASIS CAP 1.2 message in the shape of GB/T 35965.1 (README: CAP mapping)');

const summarySchema = z
  .object({
    total: z.number().int(),
    bySeverity: z.record(z.string(), z.number().int()),
    byStatus: z.record(z.string(), z.number().int()),
    groups: z.array(z.object({ severity: z.enum(SEVERITIES), status: z.enum(ALERT_STATUSES), category: z.string(), district: z.string(), count: z.number().int() })),
  })
  .meta({ id: 'AlertSummary' });

/** True when the client asks for CAP before JSON (a plain `Accept: application/cap+xml`, or with q-values). */
function wantsCap(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let cap = -1;
  let json = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if (type === CAP_TYPE) cap = Math.max(cap, q);
    if (type === 'application/json' || type === '*/*' || type === 'application/*') json = Math.max(json, type === 'application/json' ? q : q - 0.001);
  }
  return cap > 0 && cap >= json;
}

/** Active alerts as the engine has them now (latest reading and peak are stored with the next transition only). */
function liveCopy(deps: AppDeps, a: Alert): Alert {
  return a.status === 'resolved' ? a : (deps.pipeline.engine.activeAlert(a.id) ?? a);
}

function findAlert(deps: AppDeps, id: string): Alert {
  const alert = deps.pipeline.engine.activeAlert(id) ?? deps.alerts.getAlert(id);
  if (alert === undefined) throw new HuitianError('ALERT_NOT_FOUND', { id });
  return alert;
}

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
        return { items: page.items.map((a) => toPublicAlert(liveCopy(deps, a), deps.config.timeZone)), nextCursor: page.nextCursor };
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
        severity: z.enum(SEVERITIES).optional(),
        category: z.enum(ALERT_CATEGORIES).optional(),
        district: z.string().min(1).optional(),
        entityId: z.string().min(1).optional(),
      }),
      responses: { 200: text('text/event-stream', 'The event stream (never ends by itself)') },
    }),
    (request, reply) => {
      const { severity, category, district, entityId } = request.query;
      streamAlerts(deps.hub, deps.alerts, request, reply, deps.config.timeZone, { severity, category, district, entityId });
    },
  );

  r.get(
    '/v1/alerts/summary',
    route({
      operationId: 'alertSummary',
      summary: 'Alert counts by severity, status, category and district',
      description: '告警统计：按颜色、状态、类别与街道计数，供大屏展示。',
      tags: ['alerts'],
      action: 'read',
      querystring: z.object({ status: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional() }),
      responses: { 200: ok(summarySchema, 'The counts') },
    }),
    async (request) => {
      const groups = deps.store.alertSummary(request.query.status);
      const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
      const byStatus: Record<string, number> = { open: 0, acknowledged: 0, resolved: 0 };
      let total = 0;
      for (const g of groups) {
        bySeverity[g.severity] = (bySeverity[g.severity] ?? 0) + g.count;
        byStatus[g.status] = (byStatus[g.status] ?? 0) + g.count;
        total += g.count;
      }
      return { total, bySeverity, byStatus, groups };
    },
  );

  r.get(
    '/v1/alerts/cap',
    route({
      operationId: 'alertCapFeed',
      summary: 'The active alerts as an Atom feed of CAP 1.2 messages',
      description: '生效中的预警（Atom 订阅源），每条链接其 CAP 1.2 消息，供预警发布系统轮询。',
      tags: ['alerts'],
      action: 'read',
      responses: { 200: text('application/atom+xml', 'Atom 1.0 feed, one entry per active alert') },
    }),
    async (_request, reply) => {
      const entries = [];
      let cursor: string | undefined;
      let updated = 0;
      do {
        const page = deps.alerts.listAlerts({ status: 'active', limit: 500, cursor });
        for (const a of page.items) {
          const live = liveCopy(deps, a);
          // In a cluster a version the global stage has not numbered yet joins the next poll.
          const numbered = (deps.capMessages ?? deps.store).capNumberOf(live);
          if (numbered === undefined) continue;
          const message = numbered.message;
          updated = Math.max(updated, message.sent);
          entries.push({ alert: live, message, href: `/v1/alerts/${encodeURIComponent(a.id)}/cap` });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      const xml = renderAtomFeed(entries, { id: `urn:huitian:cap-feed:${deps.config.notifications.cap.issuerCode}`, self: '/v1/alerts/cap', updated, title: '回天城市大脑 · 生效中的预警 (CAP 1.2)' });
      return reply.type('application/atom+xml; charset=utf-8').send(xml);
    },
  );

  r.get(
    '/v1/alerts/:id/cap',
    route({
      operationId: 'getAlertCap',
      summary: 'The alert as a CAP 1.2 message (GB/T 35965.1 shape)',
      description: '以 CAP 1.2（GB/T 35965.1 预警信息格式）返回一条告警的当前版本。',
      tags: ['alerts'],
      action: 'read',
      params: idParams,
      responses: { 200: capMessage, 404: failure('ALERT_NOT_FOUND'), 503: failure('CAP_NOT_NUMBERED') },
    }),
    async (request, reply) => reply.type(`${CAP_TYPE}; charset=utf-8`).send(deps.renderCap(findAlert(deps, request.params.id))),
  );

  r.get(
    '/v1/alerts/:id',
    route({
      operationId: 'getAlert',
      summary: 'One alert with its history',
      description: `查询一条告警及其全部变更记录。With \`Accept: ${CAP_TYPE}\`, the alert as a CAP 1.2 message.`,
      tags: ['alerts'],
      action: 'read',
      params: idParams,
      responses: { 200: { description: 'The alert (JSON), or as CAP 1.2 when asked', content: { 'application/json': ownedAlertSchema, [CAP_TYPE]: z.string() } }, 404: failure('ALERT_NOT_FOUND'), 503: failure('CAP_NOT_NUMBERED') },
    }),
    async (request, reply) => {
      const alert = findAlert(deps, request.params.id);
      if (wantsCap(request.headers.accept)) return reply.type(`${CAP_TYPE}; charset=utf-8`).send(deps.renderCap(alert));
      // Cluster mode: also the task that owns it (docs/cluster.md §4).
      const zone = deps.config.timeZone;
      return deps.cluster === undefined ? toPublicAlert(alert, zone) : { ...toPublicAlert(alert, zone), task: deps.cluster.taskOfAlert(alert.id) ?? null };
    },
  );

  r.post(
    '/v1/alerts/:id/ack',
    route({
      operationId: 'acknowledgeAlert',
      summary: 'Acknowledge an open alert',
      description: '确认（签收）一条未处理的告警：处置人为令牌名称（请求体中另报的 by 记入备注），记录事件时间与操作时间（wallClockAt）及备注。`until`：确认到期时间（事件时间），到期仍未解除则重新打开并再次通知。',
      tags: ['alerts'],
      action: 'operate',
      params: idParams,
      body: ackBody,
      responses: {
        200: ok(alertSchema, 'The alert after the acknowledgement'),
        202: ok(pendingSchema, 'Cluster mode: the command is in the owning task’s input but the alert view did not show it within HUITIAN_COMMAND_WAIT_MS'),
        404: failure('ALERT_NOT_FOUND'),
        409: failure('ALERT_TRANSITION_NOT_ALLOWED'),
        503: failure('STORE_UNAVAILABLE', 'SOURCE_UNAVAILABLE', 'NOT_READY'),
      },
    }),
    async (request, reply) => {
      const until = request.body.until === undefined ? undefined : parseRfc3339(request.body.until)!;
      const { by, note } = operatorOf(request, request.body);
      if (deps.cluster !== undefined) return clusterOperate(deps, 'ack', request.params.id, { by, ...(note === undefined ? {} : { note }), until }, reply);
      return toPublicAlert(deps.pipeline.acknowledge(request.params.id, by, note, until), deps.config.timeZone);
    },
  );

  r.post(
    '/v1/alerts/:id/resolve',
    route({
      operationId: 'resolveAlert',
      summary: 'Resolve an open or acknowledged alert',
      description: '解除一条未处理或已确认的告警：处置人为令牌名称，记录事件时间与操作时间（wallClockAt）及备注。',
      tags: ['alerts'],
      action: 'operate',
      params: idParams,
      body: operationBody,
      responses: {
        200: ok(alertSchema, 'The alert after the resolution'),
        202: ok(pendingSchema, 'Cluster mode: the command is in the owning task’s input but the alert view did not show it within HUITIAN_COMMAND_WAIT_MS'),
        404: failure('ALERT_NOT_FOUND'),
        409: failure('ALERT_TRANSITION_NOT_ALLOWED'),
        503: failure('STORE_UNAVAILABLE', 'SOURCE_UNAVAILABLE', 'NOT_READY'),
      },
    }),
    async (request, reply) => {
      const { by, note } = operatorOf(request, request.body);
      if (deps.cluster !== undefined) return clusterOperate(deps, 'resolve', request.params.id, { by, ...(note === undefined ? {} : { note }) }, reply);
      return toPublicAlert(deps.pipeline.resolve(request.params.id, by, note), deps.config.timeZone);
    },
  );
}

/** Cluster mode: a command to the owning task; the alert once the view shows it, else 202 (docs/cluster.md §4). */
async function clusterOperate(deps: AppDeps, kind: 'ack' | 'resolve', id: string, body: { by: string; note?: string; until?: number }, reply: FastifyReply) {
  const result = await deps.cluster!.operate(kind, id, body.by, body.note, body.until);
  if ('alert' in result) return toPublicAlert(result.alert, deps.config.timeZone);
  return reply.code(202).send(result.pending);
}
