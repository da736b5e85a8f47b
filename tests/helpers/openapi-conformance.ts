/**
 * Checks an HTTP answer against the service's own OpenAPI document (/docs/json), the way
 * a generated client or schemathesis would read it: the status must be declared for the
 * operation, the content type must be one it declares, the body must validate against
 * the declared schema (JSON Schema 2020-12, formats included), an error answer must carry
 * one of the codes the status lists (`x-error-codes`), and required headers must be there.
 * A known path asked with an undeclared method must answer 405 with `Allow`; a path the
 * document does not know must answer 404 NOT_FOUND.
 *
 * tests/helpers/service.ts runs it on every answer of every service a test starts, and
 * fails the test on any problem.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Json }>; headers?: Record<string, { required?: boolean }>; 'x-error-codes'?: string[] }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json> };
}

export interface ObservedAnswer {
  method: string;
  /** Path and query as requested. */
  url: string;
  status: number;
  headers: Record<string, unknown>;
  /** The body as sent; undefined when it is a stream (not checked). */
  body: string | undefined;
}

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv2020) => void }).default;

const COMPONENT_URN = 'urn:huitian:openapi:component:';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Paths served beside the API and left out of its document on purpose. */
const UNDOCUMENTED = [/^\/docs(\/|$)/];

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/') ? COMPONENT_URN + x.slice('#/components/schemas/'.length) : rewriteRefs(x);
  }
  return out;
}

function mediaTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split(';')[0]!.trim().toLowerCase();
}

export class OpenApiConformance {
  private readonly ajv: Ajv2020;
  private readonly paths: Array<{ template: string; pattern: RegExp; literal: boolean; operations: Record<string, Operation> }>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) this.ajv.addSchema(rewriteRefs(schema) as Json, COMPONENT_URN + name);
    this.paths = Object.entries(doc.paths).map(([template, operations]) => ({
      template,
      literal: !template.includes('{'),
      pattern: new RegExp(`^${template.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`),
      operations,
    }));
    // OpenAPI: a concrete path matches before a templated one (/v1/alerts/stream before /v1/alerts/{id}).
    this.paths.sort((a, b) => Number(b.literal) - Number(a.literal));
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let v = this.validators.get(key);
    if (v === undefined) {
      v = this.ajv.compile(rewriteRefs(schema) as Json);
      this.validators.set(key, v);
    }
    return v;
  }

  /** Problems of one answer; empty when it conforms. */
  check(a: ObservedAnswer): string[] {
    const path = a.url.split('?')[0]!;
    const where = `${a.method} ${path} → ${a.status}`;
    if (UNDOCUMENTED.some((p) => p.test(path))) return [];
    const json = parseJson(a.body);
    const entry = this.paths.find((p) => p.pattern.test(path));
    const method = a.method.toLowerCase();
    if (entry === undefined) {
      return a.status === 404 && json?.error?.code === 'NOT_FOUND' ? [] : [`${where}: the path is not in the OpenAPI document, so only 404 NOT_FOUND may answer it`];
    }
    // HEAD is what fastify answers for every GET route: the GET operation's statuses, no body.
    const operation = entry.operations[method] ?? (method === 'head' ? entry.operations.get : undefined);
    if (operation === undefined) {
      const declared = Object.keys(entry.operations).filter((m) => METHODS.includes(m));
      const problems: string[] = [];
      if (a.status !== 405 || json?.error?.code !== 'METHOD_NOT_ALLOWED') problems.push(`${where}: ${a.method} is not declared for ${entry.template}, so only 405 METHOD_NOT_ALLOWED may answer it`);
      const allow = String(a.headers.allow ?? '')
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== '');
      for (const m of declared) if (!allow.includes(m)) problems.push(`${where}: Allow (${String(a.headers.allow)}) lacks ${m.toUpperCase()}`);
      return problems;
    }
    const response = operation.responses[String(a.status)] ?? operation.responses.default;
    if (response === undefined) return [`${where}: status ${a.status} is not declared (declared: ${Object.keys(operation.responses).join(', ')})`];
    const problems: string[] = [];
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      if (h.required === true && a.headers[name.toLowerCase()] === undefined) problems.push(`${where}: required header ${name} is missing`);
    }
    if (method === 'head' || a.body === undefined) return problems;
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) {
      if (a.body !== '') problems.push(`${where}: a body was sent where none is declared`);
      return problems;
    }
    const type = mediaTypeOf(a.headers['content-type']);
    const media = type === undefined ? undefined : content[type];
    if (media === undefined) return [...problems, `${where}: content type ${String(a.headers['content-type'])} is not declared (declared: ${Object.keys(content).join(', ')})`];
    const body = type === 'application/json' || type!.endsWith('+json') ? json : a.body;
    if (body === undefined) return [...problems, `${where}: the body is not valid JSON`];
    const validate = this.validator(`${entry.template} ${method} ${a.status} ${type}`, media.schema);
    if (!validate(body)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`);
      problems.push(`${where}: the body does not match the declared schema: ${errors.join('; ')}`);
    }
    const codes = response['x-error-codes'];
    if (codes !== undefined && !codes.includes(json?.error?.code)) problems.push(`${where}: error code ${String(json?.error?.code)} is not one this status declares (${codes.join(', ')})`);
    return problems;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseJson(body: string | undefined): any {
  if (body === undefined || body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * Checks every answer `app` sends (inject or real HTTP; not a hijacked stream) against its
 * own document, appending what does not conform to `problems`.
 */
export function checkEveryAnswer(app: FastifyInstance, problems: string[]): void {
  let checker: OpenApiConformance | undefined;
  app.addHook('onSend', async (request, reply, payload) => {
    checker ??= new OpenApiConformance(app.swagger() as unknown as OpenApiDocument);
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : undefined;
    problems.push(...checker.check({ method: request.method, url: request.url, status: reply.statusCode, headers: reply.getHeaders(), body }));
    return payload;
  });
}
