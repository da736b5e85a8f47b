/**
 * How a route declares its contract. The OpenAPI 3.1 document at /docs/json is generated
 * from these declarations — the same zod schemas fastify validates requests with and
 * serializes answers with — so the document cannot drift from what the routes do.
 *
 *   r.get('/v1/things/:id', route({
 *     operationId: 'getThing',           // camelCase, unique; what generated clients call it
 *     summary: 'One thing by id',        // English, one line
 *     description: '按编号查询一个事物。', // Chinese first (the operators read Chinese); English may follow
 *     tags: ['things'],
 *     action: 'read',                    // 'read' | 'operate' | 'ingest' (bearer token with that role) | 'open'
 *     params: z.object({ id: z.string().min(1) }),   // also querystring, body: zod, validated by fastify
 *     responses: {
 *       200: ok(thing, 'The thing'),                 // thing: a zod schema, named with .meta({ id: 'Thing' })
 *       404: failure('THING_NOT_FOUND'),             // the error body; codes from src/errors.ts
 *     },
 *   }), async (request) => …);
 *
 * route() adds the answers every route of its kind can give: 400 VALIDATION_FAILED (and, with
 * a body, BODY_INVALID, 413, 415) when it takes input, 401/403 when it needs a role, 500
 * INTERNAL. Declare every other status the handler can answer, with the codes it uses.
 * - Answers are serialized through their zod schema: fields the schema does not name are
 *   dropped, so add a new field to the schema first (the HTTP tests see it missing).
 * - Every HTTP test checks every answer against /docs/json (tests/helpers/openapi-conformance.ts):
 *   an undeclared status, content type, body, header or error code fails the test.
 * - Times in answers are `dateTime` (RFC 3339 with any offset); query times `dateTimeParam`.
 * - Name reused object schemas with `.meta({ id })` so clients get one type for them.
 */
import type { RouteShorthandOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseRfc3339 } from '../events/event-time.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import type { Action } from './auth.js';

/** Operation-level key that carries what @fastify/swagger cannot put into a response itself. */
const EXTRA_KEY = 'x-huitian-responses';
/** Response-level extension listing the error codes a status of an operation can carry. */
export const ERROR_CODES_KEY = 'x-error-codes';

const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODE_LIST).describe('Stable error code (README: Error codes).'),
      message: z.string().describe('What went wrong and what to do, for a person.'),
      details: z.unknown().optional().describe('Machine-readable details, when there are any.'),
    }),
  })
  .meta({ id: 'Error', description: '错误应答。Every error answer: a stable code and a message a person can act on.' });

/** An RFC 3339 time in an answer (any offset); defined with the shared answer bodies. */
export { dateTime } from './answer-schemas.js';

/** An RFC 3339 time in a query: whatever the event decoder accepts (lower-case t/z, space, 9 digits). */
export const dateTimeParam = z
  .string()
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be an RFC 3339 timestamp with offset, e.g. 2026-07-21T08:00:00+08:00' })
  .meta({ format: 'date-time' });

export interface HeaderSpec {
  description: string;
  required?: boolean;
  schema: Record<string, unknown>;
}

export const RETRY_AFTER: Record<string, HeaderSpec> = {
  'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 0 } },
};

export interface ResponseSpec {
  description: string;
  /** Media type → zod schema of the body. */
  content?: Record<string, z.ZodType>;
  headers?: Record<string, HeaderSpec>;
  /** Error codes this status carries (error answers only). */
  errorCodes?: ErrorCode[];
}

/** A JSON answer. */
export function ok(schema: z.ZodType, description: string, headers?: Record<string, HeaderSpec>): ResponseSpec {
  return { description, content: { 'application/json': schema }, headers };
}

/** An answer that is not JSON (Prometheus text, an event stream). */
export function text(mediaType: string, description: string): ResponseSpec {
  return { description, content: { [mediaType]: z.string() } };
}

/**
 * An error answer with the given codes (all of one HTTP status). `schema` replaces the plain
 * error body when the answer carries more (POST /v1/events puts its report beside the error).
 */
export function failure(...codes: [ErrorCode, ...ErrorCode[]]): ResponseSpec {
  return failureWith(errorBody, ...codes);
}

export function failureWith(schema: z.ZodType, ...codes: [ErrorCode, ...ErrorCode[]]): ResponseSpec {
  const status = ERROR_CODES[codes[0]].status;
  for (const c of codes) if (ERROR_CODES[c].status !== status) throw new Error(`error codes of one response differ in status: ${codes.join(', ')}`);
  return {
    description: codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].message}`).join('; '),
    content: { 'application/json': schema },
    // The app adds Retry-After to every 429 and 503 (app.ts).
    headers: status === 429 || status === 503 ? RETRY_AFTER : undefined,
    errorCodes: codes,
  };
}

export interface RouteSpec {
  operationId: string;
  summary: string;
  /** Chinese first. */
  description: string;
  tags: string[];
  /** What the route does for authorisation; `open` routes need no token. */
  action: Action | 'open';
  params?: z.ZodType;
  querystring?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  /**
   * A request body documented but not validated by fastify (the route reads the bytes
   * itself): media type → JSON Schema.
   */
  documentedBody?: { description: string; content: Record<string, Record<string, unknown>> };
  responses: Record<number, ResponseSpec>;
  /** Rate limit of the route (see @fastify/rate-limit); adds 429. */
  rateLimit?: { max: number; timeWindow: number } | false;
}

function merge(into: Record<number, ResponseSpec>, status: number, add: ResponseSpec): void {
  const existing = into[status];
  if (existing === undefined) {
    into[status] = add;
    return;
  }
  if (existing.errorCodes === undefined || add.errorCodes === undefined) return; // the route's own answer wins
  // Codes only the default adds: the route's own schema stays, its description and list grow.
  const extra = add.errorCodes.filter((c) => !existing.errorCodes!.includes(c));
  if (extra.length === 0) return;
  into[status] = {
    ...existing,
    description: [existing.description, ...extra.map((c) => `\`${c}\`: ${ERROR_CODES[c].message}`)].join('; '),
    errorCodes: [...existing.errorCodes, ...extra],
  };
}

/**
 * The fastify route options (config and schema) of a declared route. The input schemas
 * keep their types, so handlers see typed params, query and body (ZodTypeProvider).
 */
export function route<const S extends RouteSpec>(
  spec: S,
): RouteShorthandOptions & { schema: { params: S['params']; querystring: S['querystring']; headers: S['headers']; body: S['body'] } } {
  const responses: Record<number, ResponseSpec> = { ...spec.responses };
  const takesInput = spec.params !== undefined || spec.querystring !== undefined || spec.body !== undefined || spec.headers !== undefined;
  const hasBody = spec.body !== undefined || spec.documentedBody !== undefined;
  if (takesInput) merge(responses, 400, failure('VALIDATION_FAILED'));
  if (hasBody) {
    merge(responses, 400, failure('BODY_INVALID'));
    merge(responses, 413, failure('PAYLOAD_TOO_LARGE'));
    merge(responses, 415, failure('UNSUPPORTED_MEDIA_TYPE'));
  }
  if (spec.action !== 'open') {
    merge(responses, 401, failure('UNAUTHORIZED'));
    merge(responses, 403, failure('FORBIDDEN'));
  }
  if (spec.rateLimit) merge(responses, 429, failure('RATE_LIMITED'));
  merge(responses, 500, failure('INTERNAL'));

  const response: Record<string, unknown> = {};
  const extras: Record<string, { headers?: Record<string, HeaderSpec>; errorCodes?: ErrorCode[]; noBody?: string }> = {};
  for (const [status, r] of Object.entries(responses)) {
    const content: Record<string, { schema: z.ZodType }> = {};
    for (const [mediaType, schema] of Object.entries(r.content ?? {})) content[mediaType] = { schema };
    // A status with no body (a redirect, 304) has no serializer schema for fastify to compile:
    // it reaches the document through the extras.
    if (Object.keys(content).length === 0) {
      extras[status] = { headers: r.headers, errorCodes: r.errorCodes, noBody: r.description };
      continue;
    }
    response[status] = { description: r.description, content };
    if (r.headers !== undefined || r.errorCodes !== undefined) extras[status] = { headers: r.headers, errorCodes: r.errorCodes };
  }
  const schema: Record<string, unknown> = {
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: spec.tags,
    security: spec.action === 'open' ? [] : [{ bearer: [] }],
    response,
    [EXTRA_KEY]: extras,
  };
  if (spec.params !== undefined) schema.params = spec.params;
  if (spec.querystring !== undefined) schema.querystring = spec.querystring;
  if (spec.headers !== undefined) schema.headers = spec.headers;
  if (spec.body !== undefined) schema.body = spec.body;
  if (spec.documentedBody !== undefined) schema[DOCUMENTED_BODY_KEY] = spec.documentedBody;
  const config: Record<string, unknown> = { action: spec.action === 'open' ? 'probe' : spec.action };
  if (spec.rateLimit !== undefined) config.rateLimit = spec.rateLimit;
  return { config, schema } as unknown as ReturnType<typeof route<S>>;
}

const DOCUMENTED_BODY_KEY = 'documentedBody';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** @fastify/swagger `transform`: zod → JSON Schema (fastify-type-provider-zod), plus documented bodies. */
export function openApiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const documented = (input.schema as Record<string, unknown> | undefined)?.[DOCUMENTED_BODY_KEY] as RouteSpec['documentedBody'];
  const out = jsonSchemaTransform(input);
  if (documented !== undefined) {
    const transformed = out.schema as Record<string, unknown>;
    delete transformed[DOCUMENTED_BODY_KEY];
    transformed.body = {
      description: documented.description,
      content: Object.fromEntries(Object.entries(documented.content).map(([type, schema]) => [type, { schema }])),
    };
  }
  return out;
}

type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];
type OpenApiDocument = Record<string, unknown> & {
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * @fastify/swagger `transformObject`: the named zod schemas as components, the response
 * headers and error codes moved into their responses, extra components (the event schemas)
 * added, and components no operation refers to dropped (zod's registry holds an input and
 * an output variant of every named schema).
 */
export function openApiTransformObject(extraComponents: Record<string, unknown> = {}) {
  return (input: TransformObjectInput): OpenApiDocument => {
    const doc = jsonSchemaTransformObject(input) as OpenApiDocument;
    for (const methods of Object.values(doc.paths ?? {})) {
      for (const op of Object.values(methods)) {
        const extras = op[EXTRA_KEY] as Record<string, { headers?: Record<string, HeaderSpec>; errorCodes?: ErrorCode[]; noBody?: string }> | undefined;
        delete op[EXTRA_KEY];
        const responses = op.responses as Record<string, Record<string, unknown>>;
        for (const [status, extra] of Object.entries(extras ?? {})) {
          if (responses[status] === undefined && extra.noBody !== undefined) responses[status] = { description: extra.noBody };
          const r = responses[status];
          if (r === undefined) continue;
          if (extra.headers !== undefined) r.headers = extra.headers;
          if (extra.errorCodes !== undefined) r[ERROR_CODES_KEY] = extra.errorCodes;
        }
      }
    }
    const components = { ...(doc.components?.schemas ?? {}), ...extraComponents };
    const used = referencedComponents(doc.paths, components);
    doc.components = { ...doc.components, schemas: Object.fromEntries(Object.entries(components).filter(([name]) => used.has(name))) };
    return doc;
  };
}

const REF_PREFIX = '#/components/schemas/';

function referencedComponents(root: unknown, components: Record<string, unknown>): Set<string> {
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith(REF_PREFIX)) {
          const name = decodeURIComponent(x.slice(REF_PREFIX.length)).replaceAll('~1', '/').replaceAll('~0', '~');
          if (!used.has(name)) {
            used.add(name);
            visit(components[name]);
          }
        } else {
          visit(x);
        }
      }
    }
  };
  visit(root);
  return used;
}
