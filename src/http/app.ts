/**
 * Builds the HTTP API (fastify) without listening, so tests drive it with
 * `app.inject()` and the service decides where to listen.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { TokenIdentity } from '../config.js';
import { hasBinaryModeHeaders } from '../events/binary-mode.js';
import { eventComponents } from '../events/json-schemas.js';
import { HuitianError } from '../errors.js';
import type { AppDeps } from './app-deps.js';
import { bearerToken, mayPerform, ROLE_FOR, TokenVerifier, type Action } from './auth.js';
import { INGEST_CONTENT_TYPES } from './ingest-body.js';
import { registerConsoleRoutes } from './console.js';
import { RouteMethods } from './route-methods.js';
import { openApiTransform, openApiTransformObject } from './route-schemas.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerEventRoutes } from './routes/events.js';
import { registerKpiRoutes } from './routes/kpis.js';
import { registerNotificationRoutes } from './routes/notifications.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerTargetRoutes } from './routes/targets.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a route does, for authorisation; `probe` routes stay open. */
    action?: Action | 'probe';
  }
  interface FastifyRequest {
    /** Who presented the request's token; null with auth off or on open routes. */
    caller: TokenIdentity | null;
  }
}

/** Seconds a 503 asks the client to wait. */
const RETRY_AFTER_503_S = 5;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    ...serverTimeouts(deps.config),
    // Per-request log lines would be the loudest thing in the log at ingest rates; HTTP
    // latency is a metric instead, and errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Request ids appear in 500 answers as a reference to find the log line.
    genReqId: (() => {
      let n = 0;
      return () => `req-${(++n).toString(36)}`;
    })(),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', (r) => routeMethods.add(r.url, r.method));

  // Ingest gets the body as bytes and decodes each record itself, so one bad record is one
  // rejection instead of a failed request (and the bytes go into the recovery log as they
  // came); other routes parse JSON here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...INGEST_CONTENT_TYPES], { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.url === '/v1/events') return done(null, body);
    const text = (body as Buffer).toString('utf8');
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HuitianError('BODY_INVALID', { details: `invalid JSON (${(err as Error).message})` }), undefined);
    }
  });
  // CloudEvents binary mode is told by `ce-specversion`, not by the content type, which
  // is the data's own (datacontenttype) — or absent: the Python SDK's to_binary sends none
  // when the event has no datacontenttype. Only ingest takes such a body.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.url === '/v1/events' && hasBinaryModeHeaders(request.headers, 'ce-')) return done(null, body);
    // A route that takes no body (DELETE /v1/silences/{id}) ignores one, whatever its type:
    // its answer is about the path, and 415 is not among them (schemathesis sent one).
    if (request.routeOptions.schema?.body === undefined && request.routeOptions.url !== '/v1/events') return done(null, undefined);
    done(new HuitianError('UNSUPPORTED_MEDIA_TYPE', { contentType: request.headers['content-type'] ?? '(none)' }), undefined);
  });

  // The document is generated from the routes' zod schemas (see route-schemas.ts); security
  // is declared per operation, so the open probes stay open.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'huitian-brain API',
        description:
          '回天城市大脑事件流处理服务：接收 CloudEvents 事件，按事件时间计算指标并生成四色预警。\n\nThe event-stream service of the Huitian City Brain hub: CloudEvents in, event-time KPIs and alerts out. Times are RFC 3339; every error body is {"error":{"code","message","details?"}} with a stable code.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token of HUITIAN_TOKENS; its role decides what it may do' } } },
    },
    transform: openApiTransform,
    transformObject: openApiTransformObject(eventComponents()),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const verifier = new TokenVerifier(deps.config.tokenIdentities);
  app.decorateRequest('caller', null);
  await app.register(rateLimit, {
    global: false,
    // A client is its token only when the token is a configured one: keying by any
    // presented string would let a producer dodge the limit by inventing a new token per
    // request (with auth off nothing else refuses them).
    keyGenerator: (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization);
      return token !== undefined && verifier.roleOf(token) !== undefined ? `token:${token}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => {
      const err = new HuitianError('RATE_LIMITED', { retryAfter: Math.ceil(context.ttl / 1000) });
      return Object.assign(err, { statusCode: 429 });
    },
  });

  app.addHook('onRequest', async (request) => {
    const action = request.routeOptions.config?.action;
    if (action === undefined || action === 'probe' || !verifier.enabled) return;
    const presented =
      bearerToken(request.headers.authorization) ??
      // EventSource cannot send headers, so the alert stream also takes ?access_token=.
      (request.routeOptions.url === '/v1/alerts/stream' ? (request.query as { access_token?: string }).access_token : undefined);
    const caller = presented === undefined ? undefined : verifier.identify(presented);
    if (caller === undefined) throw new HuitianError('UNAUTHORIZED');
    if (!mayPerform(caller.role, action)) throw new HuitianError('FORBIDDEN', { role: caller.role, action, needed: ROLE_FOR[action] });
    request.caller = caller;
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Open alert streams would keep close() waiting for their clients to hang up.
  app.addHook('preClose', async () => {
    deps.hub.endAll();
  });

  // Retry-After on every 429 and 503, so a client knows when to come back (the rate limiter
  // sets its own; a store that is away gets a few seconds).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(RETRY_AFTER_503_S));
    return payload;
  });

  // A path no route has: 404, or 405 with Allow when the path is known for other methods.
  const noRoute = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routeMethods.allowed(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      const allow = allowed.join(', ');
      void reply
        .code(405)
        .header('allow', allow)
        .send(new HuitianError('METHOD_NOT_ALLOWED', { method: request.method, url: path, allow }).toBody());
      return;
    }
    void reply.code(404).send(new HuitianError('NOT_FOUND', { method: request.method, url: path }).toBody());
  };
  app.setNotFoundHandler(noRoute);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // The body of a request no route takes (QUERY without a content type, say) is not
    // worth parsing: what is wrong is the route, and that is the answer.
    if (request.is404) return noRoute(request, reply);
    const mapped = toHuitianError(error, request, deps);
    if (mapped.status >= 500) request.log.error({ err: error, reqId: request.id }, 'request failed');
    void reply.code(mapped.status).send(mapped.toBody());
  });

  registerOperationRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerKpiRoutes(app, deps);
  registerNotificationRoutes(app, deps);
  registerTargetRoutes(app, deps);
  registerConsoleRoutes(app, deps.consoleDir);
  return app;
}

/**
 * Slow clients are bounded (DESIGN §6): fastify leaves the request timeout off, so a body
 * sent a byte a second held its connection for minutes. Node enforces the request and
 * headers timeouts only when it sweeps its connections (every 30 s by default), so the
 * sweep runs at a quarter of the shorter one — otherwise a 10 s bound could take 40 s.
 */
function serverTimeouts(config: AppDeps['config']) {
  const requestTimeout = Math.round(config.requestTimeoutS * 1000);
  const headersTimeout = Math.round(config.headersTimeoutS * 1000);
  return {
    requestTimeout,
    keepAliveTimeout: Math.round(config.keepAliveTimeoutS * 1000),
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(Math.min(requestTimeout, headersTimeout) / 4))) },
  };
}

function toHuitianError(error: FastifyError, request: FastifyRequest, deps: AppDeps): HuitianError {
  if (error instanceof HuitianError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => {
      const path = `${error.validationContext ?? 'request'}${v.instancePath.replaceAll('/', '.')}`;
      return `${path}: ${v.message ?? 'is invalid'}`;
    });
    return new HuitianError('VALIDATION_FAILED', { details: issues.join('; ') }, { details: issues });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HuitianError('PAYLOAD_TOO_LARGE', { limit: deps.config.bodyLimitBytes });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HuitianError('UNSUPPORTED_MEDIA_TYPE', { contentType: request.headers['content-type'] ?? '(none)' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HuitianError('BODY_INVALID', { details: error.message });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new HuitianError('VALIDATION_FAILED', { details: error.message });
  }
  return new HuitianError('INTERNAL', { reference: request.id }, { cause: error });
}
