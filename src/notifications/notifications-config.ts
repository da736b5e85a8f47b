/**
 * The `notifications` section of the config file (issue 12): receivers, routes that match
 * alerts to receivers, escalation policies per severity, and the CAP issuer. Validated
 * once at start-up with every problem named by its path; strict, so a misspelt key never
 * leaves a default silently in force.
 */
import { z } from 'zod';
import { ALERT_CATEGORIES, SEVERITIES } from '../alerts/alert.js';

const name = z.string().regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u, { error: 'must be 1–64 letters (any script), digits, ".", "_" or "-"' });
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const headers = z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).default({});

const webhookFields = {
  url: httpUrl,
  headers,
  /** HMAC-SHA256 key of the signature header; without it calls are not signed. */
  secret: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  timeoutSeconds: z.number().positive().max(120).default(10),
};

export const receiverSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), ...webhookFields }),
  /** POSTs each alert of a notification as a CAP 1.2 message (application/cap+xml). */
  z.strictObject({ type: z.literal('cap'), ...webhookFields }),
  z.strictObject({ type: z.literal('nats'), subject: z.string().regex(/^[^\s*>]+$/, { error: 'must be a NATS subject without wildcards' }) }),
  z.strictObject({ type: z.literal('kafka'), topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/) }),
]);
export type ReceiverConfig = z.output<typeof receiverSchema>;

export const GROUP_FIELDS = ['category', 'district', 'rule', 'severity', 'entityId'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

export const routeSchema = z.strictObject({
  name,
  /** Every given matcher must match; `severity` means "at least". No matcher: every alert. */
  match: z
    .strictObject({
      category: oneOrMany(z.enum(ALERT_CATEGORIES)).optional(),
      severity: z.enum(SEVERITIES).optional(),
      district: oneOrMany(z.string().min(1)).optional(),
      rule: oneOrMany(z.string().min(1)).optional(),
    })
    .default({}),
  receivers: z.array(name).min(1),
  /** Alerts of one group key changing within this many seconds go out as one notification; 0 sends each change at once. */
  groupWaitSeconds: z.number().min(0).max(3600).default(30),
  groupBy: z.array(z.enum(GROUP_FIELDS)).default(['category', 'district']),
  /** Only these transitions are notified. */
  actions: z.array(z.enum(['opened', 'escalated', 'acknowledged', 'reopened', 'resolved', 'unsilenced'])).default(['opened', 'escalated', 'acknowledged', 'reopened', 'resolved', 'unsilenced']),
  /** Keep matching the routes after this one (Alertmanager's `continue`). */
  continue: z.boolean().default(false),
  /** Takes part only in escalations (named by a policy), never in the matching of transitions. */
  escalationOnly: z.boolean().default(false),
});
export type RouteConfig = z.output<typeof routeSchema>;

export const escalationPolicySchema = z.strictObject({
  /** Open and unacknowledged this long (event time) → the route is notified (`escalated_to`). */
  afterMinutes: z.number().positive().max(7 * 24 * 60),
  route: name,
  /** Then reminded every this many minutes until acknowledged or resolved; 0: no reminders. */
  repeatMinutes: z.number().min(0).max(7 * 24 * 60).default(0),
});
export type EscalationPolicy = z.output<typeof escalationPolicySchema>;

export const capConfigSchema = z.strictObject({
  /**
   * GB/T 35965.1 issuer code (发布单位代码 ZZZZZZDDDUUUXX): the 6-digit GB/T 2260 code of
   * the district (昌平区 110114), the 3-digit GB/T 4657 code of the organisation, 3 digits of
   * internal unit (000) and 2 of extension (00).
   */
  issuerCode: z.string().regex(/^\d{14}$/, { error: 'must be 14 digits (GB/T 35965.1 ZZZZZZDDDUUUXX)' }).default('11011400000000'),
  sender: z.string().regex(/^[^\s,&<]+$/, { error: 'must have no spaces, commas, & or <' }).default('huitian-brain@110114'),
  senderName: z.string().min(1).default('北京市昌平区回天地区城市大脑运营指挥中心'),
  senderNameEn: z.string().min(1).default('Huitian City Brain Operations Centre, Changping District, Beijing'),
  /** GB/T 2260 code of the area of every alert; `districtCodes` may name a finer one per street. */
  areaCode: z.string().regex(/^\d{6,12}$/).default('110114'),
  districtCodes: z.record(z.string(), z.string().regex(/^\d{6,12}$/)).default({}),
  status: z.enum(['Actual', 'Exercise', 'System', 'Test', 'Draft']).default('Actual'),
  /** `status` of messages when the service runs with HUITIAN_TIME_MODE=replay. */
  replayStatus: z.enum(['Actual', 'Exercise', 'System', 'Test', 'Draft']).default('Actual'),
});
export type CapConfig = z.output<typeof capConfigSchema>;

export const notificationsConfigSchema = z
  .strictObject({
    receivers: z.record(name, receiverSchema).default({}),
    routes: z.array(routeSchema).default([]),
    escalation: z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, escalationPolicySchema.optional()])) as Record<(typeof SEVERITIES)[number], z.ZodOptional<typeof escalationPolicySchema>>).default({}),
    cap: capConfigSchema.prefault({}),
    /** Outbox retries: first delay and the cap of the exponential backoff, seconds. */
    retry: z.strictObject({ initialSeconds: z.number().positive().default(1), maxSeconds: z.number().positive().default(300) }).prefault({}),
  })
  .superRefine((n, ctx) => {
    const routeNames = new Set<string>();
    n.routes.forEach((r, i) => {
      if (routeNames.has(r.name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `route "${r.name}" is named twice` });
      routeNames.add(r.name);
      r.receivers.forEach((rc, j) => {
        if (n.receivers[rc] === undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'receivers', j], message: `no receiver named "${rc}" (receivers: ${Object.keys(n.receivers).join(', ') || 'none'})` });
      });
    });
    for (const s of SEVERITIES) {
      const p = n.escalation[s];
      if (p !== undefined && !routeNames.has(p.route)) ctx.addIssue({ code: 'custom', path: ['escalation', s, 'route'], message: `no route named "${p.route}"` });
    }
  });

export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
export type NotificationsConfigInput = z.input<typeof notificationsConfigSchema>;

export const DEFAULT_NOTIFICATIONS: NotificationsConfig = notificationsConfigSchema.parse({});
