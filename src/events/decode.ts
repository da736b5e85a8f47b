/**
 * Decoding and validation of one CloudEvent into a typed event, or a rejection whose
 * reason names the field and the rule broken (`data.depthCm: must be ≥ 0`).
 */
import type { z } from 'zod';
import { fastData } from './data-fast-path.js';
import { matchesRfc3339Pattern, parseRfc3339 } from './event-time.js';
import { recordTextProblem } from './json-records.js';
import { DATA_SCHEMAS, EVENT_TYPES, envelopeSchema, hasControlCharacter, isEventType, type HuitianEvent } from './schemas.js';
import { z as zod } from 'zod';

export type Decoded = { ok: true; event: HuitianEvent } | { ok: false; reason: string; id?: string; type?: string };

/** The envelope of any type, `data` any object: what the hot-path check must agree with. */
export const anyTypeEnvelope = envelopeSchema(zod.string().min(1, { error: 'must be a non-empty string' }), zod.record(zod.string(), zod.unknown()));

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (big|small)|Expected)/;

function ruleOf(issue: z.core.$ZodIssue): string {
  const custom = !ZOD_DEFAULT_MESSAGE.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'int') return 'must be an integer';
      // zod calls a string-keyed object a "record"; the contract and its readers say object.
      return `must be ${article(issue.expected === 'record' ? 'object' : issue.expected)} (got ${describe(issue.input)})`;
    case 'too_small':
      if (custom) return issue.message;
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must be a non-empty string';
      return `must be ${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      if (custom) return issue.message;
      return `must be ${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      // A missing enum or literal field (`specversion`, `data.network`) is missing, not wrong.
      if (issue.input === undefined) return 'is required';
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Formats zod issues as `path: rule; path: rule`, with an optional path prefix. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
      return `${path === '' ? '(event)' : path}: ${ruleOf(issue)}`;
    })
    .join('; ');
}

// `reportInput` makes zod give each issue's input (for "got string" and "is required"),
// but it also turns off zod's compiled fast path, so it is only used once a parse failed.
const REPORT_INPUT = { reportInput: true } as const;

/**
 * Whether `time` has the envelope's pattern. A valid timestamp has it, and parseRfc3339
 * remembers its last answer, so asking it first reads each new time string once for both
 * this check and the event time decodeEvent takes next; only a well-shaped but impossible
 * date (Feb 30) is scanned again for its shape.
 */
function timeLooksValid(time: string): boolean {
  return parseRfc3339(time) !== undefined || matchesRfc3339Pattern(time);
}

/**
 * The hot-path envelope check. It accepts exactly what `anyTypeEnvelope` accepts (a property
 * test holds the two together); any event it refuses is re-checked by zod, which
 * writes the reason, so the zod schema stays the single source of the messages.
 * Exported for that test only.
 */
export function envelopeLooksValid(raw: Record<string, unknown>): boolean {
  const { specversion, id, source, type, time, subject, datacontenttype, data } = raw;
  return (
    specversion === '1.0' &&
    typeof id === 'string' &&
    id !== '' &&
    !hasControlCharacter(id) &&
    typeof source === 'string' &&
    source !== '' &&
    !hasControlCharacter(source) &&
    typeof type === 'string' &&
    type !== '' &&
    typeof time === 'string' &&
    // The envelope's own pattern: without it this check accepted any string, unlike zod.
    timeLooksValid(time) &&
    (subject === undefined || typeof subject === 'string') &&
    (datacontenttype === undefined || typeof datacontenttype === 'string') &&
    data !== null &&
    typeof data === 'object' &&
    !Array.isArray(data)
  );
}

function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Decodes an already JSON-parsed value. Never throws. */
export function decodeEvent(value: unknown): Decoded {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `(event): must be a JSON object (got ${describe(value)})` };
  }
  const raw = value as Record<string, unknown>;
  const idText = textOrUndefined(raw.id);
  const typeText = textOrUndefined(raw.type);
  if (!envelopeLooksValid(raw)) {
    const env = anyTypeEnvelope.safeParse(raw, REPORT_INPUT);
    const reason = env.success ? '(event): invalid CloudEvents envelope' : formatIssues(env.error.issues);
    return { ok: false, reason, id: idText, type: typeText };
  }
  const e = raw as { id: string; source: string; type: string; time: string; subject?: string; data: unknown };
  if (!isEventType(e.type)) {
    return {
      ok: false,
      reason: `type: unknown event type ${JSON.stringify(e.type)} (known: ${EVENT_TYPES.join(', ')})`,
      id: idText,
      type: typeText,
    };
  }
  const time = parseRfc3339(e.time);
  if (time === undefined) {
    return { ok: false, reason: 'time: must be a valid RFC 3339 timestamp with offset', id: idText, type: typeText };
  }
  let data: unknown = fastData(e.type, e.data);
  if (data === undefined) {
    const schema = DATA_SCHEMAS[e.type];
    const parsed = schema.safeParse(e.data);
    if (!parsed.success) {
      const detailed = schema.safeParse(e.data, REPORT_INPUT);
      const issues = detailed.success ? parsed.error.issues : detailed.error.issues;
      return { ok: false, reason: formatIssues(issues, 'data'), id: idText, type: typeText };
    }
    data = parsed.data;
  }
  const d = data as Record<string, unknown>;
  // An empty tag would be a group of its own in the embedded store but no tag at all in
  // InfluxDB (line protocol has no empty tag value): it is read as absent, in one place.
  if (d.district === '') delete d.district;
  if (d.station === '') delete d.station;
  const event = { id: e.id, source: e.source, type: e.type, time, data } as HuitianEvent;
  if (e.subject !== undefined) event.subject = e.subject;
  return { ok: true, event };
}

/**
 * Decodes one record's text — an NDJSON line, a broker message, a JSON body — held to the
 * record bounds first (json-records.ts). Never throws.
 */
export function decodeJson(text: string): Decoded {
  const problem = recordTextProblem(text);
  if (problem !== undefined) return { ok: false, reason: problem };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `(event): invalid JSON (${(err as Error).message})` };
  }
  return decodeEvent(value);
}
