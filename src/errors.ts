/**
 * Every error the service reports: a stable code, the HTTP status it maps to, whether
 * retrying may help, and a message template a person can act on. Retry logic reads
 * `retriable`, never the message. tests/errors.test.ts checks every code is documented
 * in README.md.
 */

export const ERROR_CODES = {
  CONFIG_INVALID: { status: 500, retriable: false, message: 'configuration is invalid: {details}' },
  BODY_INVALID: { status: 400, retriable: false, message: 'the request body could not be parsed: {details}' },
  EVENTS_REJECTED: { status: 400, retriable: false, message: 'no event in the request could be accepted; see errors[] for each reason' },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false, message: 'the request body is larger than {limit} bytes; split the batch' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    message:
      'content type {contentType} is not accepted; use application/cloudevents+json, application/json, application/cloudevents-batch+json or application/x-ndjson',
  },
  VALIDATION_FAILED: { status: 400, retriable: false, message: 'the request is invalid: {details}' },
  UNAUTHORIZED: { status: 401, retriable: false, message: 'a valid bearer token is required (Authorization: Bearer <token>)' },
  FORBIDDEN: { status: 403, retriable: false, message: 'role {role} may not {action}; ask for a token with role {needed}' },
  RATE_LIMITED: { status: 429, retriable: true, message: 'too many requests; retry after {retryAfter} seconds' },
  NOT_FOUND: { status: 404, retriable: false, message: 'no route {method} {url}' },
  METHOD_NOT_ALLOWED: { status: 405, retriable: false, message: '{method} is not allowed on {url}; allowed: {allow}' },
  ALERT_NOT_FOUND: { status: 404, retriable: false, message: 'no alert with id {id}' },
  ALERT_TRANSITION_NOT_ALLOWED: { status: 409, retriable: false, message: 'alert {id} is {status}; it cannot be {action}' },
  SILENCE_NOT_FOUND: { status: 404, retriable: false, message: 'no silence with id {id}; GET /v1/silences lists them' },
  KPI_NOT_FOUND: { status: 404, retriable: false, message: 'no KPI named {name}; GET /v1/kpis lists them' },
  CONSOLE_NOT_BUILT: { status: 503, retriable: false, message: 'the operations console is not built; run npm run build (npm ci does it) and restart' },
  NOT_READY: { status: 503, retriable: true, message: 'the service is not ready: {details}' },
  STORE_UNAVAILABLE: { status: 503, retriable: true, message: 'a store is unavailable: {details}' },
  SOURCE_UNAVAILABLE: { status: 503, retriable: true, message: 'an event source is unavailable: {details}' },
  CAP_NOT_NUMBERED: {
    status: 503,
    retriable: true,
    message: 'the CAP identifier of alert {id} version {version} is not numbered yet: the global stage numbers it and every instance reads it shortly after (docs/cluster.md §10)',
  },
  INTERNAL: { status: 500, retriable: true, message: 'internal error; the event was not lost if the request is retried (reference {reference})' },
} as const satisfies Record<string, { status: number; retriable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HuitianError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, params: Record<string, string | number> = {}, options: { details?: unknown; cause?: unknown } = {}) {
    super(render(ERROR_CODES[code].message, params), { cause: options.cause });
    this.name = 'HuitianError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details;
  }

  /** The `{error:{code, message, details?}}` body every error response carries. */
  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    const error: { code: ErrorCode; message: string; details?: unknown } = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

function render(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The README error table, generated from ERROR_CODES. */
export function errorTableMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.retriable ? 'yes' : 'no'} | ${e.message.replace(/\|/g, '\\|')} |`,
  );
  return ['| code | HTTP | retry may help | message |', '|---|---|---|---|', ...rows].join('\n');
}
