/**
 * Turns a POST /v1/events body into decoded candidates and rejections, for every
 * encoding the CloudEvents HTTP binding and our contract allow:
 * - structured mode, one event: application/cloudevents+json or application/json;
 * - batched mode: application/cloudevents-batch+json (a JSON array);
 * - NDJSON: application/x-ndjson, one event per line (what `huitian replay` sends);
 * - binary mode: `ce-*` headers carry the attributes and the body is `data`.
 * Every record is decoded on its own, so one bad neighbour never costs a valid event, and
 * every record — accepted or not — keeps the text it was received as (`raw`), which is
 * what a refused one is dead-lettered as: never a re-encoding of what was parsed.
 */
import { binaryModeText, fromBinaryMode, hasBinaryModeHeaders } from '../events/binary-mode.js';
import { decodeEvent, decodeJson, type Decoded } from '../events/decode.js';
import { cutJsonArray, recordTextProblem } from '../events/json-records.js';
import { decodeNdjson } from '../events/ndjson.js';
import { HuitianError } from '../errors.js';
import type { Candidate, Rejection } from '../pipeline/pipeline.js';

export const INGEST_CONTENT_TYPES = [
  'application/cloudevents+json',
  'application/json',
  'application/cloudevents-batch+json',
  'application/x-ndjson',
] as const;

export interface ParsedBody {
  candidates: Candidate[];
  rejections: Rejection[];
  /** Records in the body (valid or not). */
  total: number;
  /** An NDJSON body: its lines that decode are `candidates`, in order (see Pipeline.ingest). */
  ndjson?: string;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function collect(out: ParsedBody, index: number, decoded: Decoded, raw: string): void {
  out.total++;
  if (decoded.ok) out.candidates.push({ index, event: decoded.event, raw });
  else out.rejections.push({ index, id: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, raw });
}

/** The body as a whole cannot be read; `details` says why (it also becomes the record's reason). */
export function bodyInvalid(details: string): HuitianError {
  return new HuitianError('BODY_INVALID', { details }, { details });
}

function firstNonBlank(text: string): string {
  return text.trimStart().charAt(0);
}

export function parseIngestBody(body: string, contentType: string | undefined, headers: Record<string, string | string[] | undefined>): ParsedBody {
  const type = mediaType(contentType);
  const out: ParsedBody = { candidates: [], rejections: [], total: 0 };
  if (body.trim() === '') throw bodyInvalid('the body is empty');

  // The content type decides the mode (CloudEvents HTTP binding §3): application/cloudevents…
  // is structured or batched whatever headers a proxy or SDK added, and so is our NDJSON.
  const structured = type.startsWith('application/cloudevents') || type === 'application/x-ndjson';
  if (!structured && hasBinaryModeHeaders(headers, 'ce-')) {
    parseBinaryMode(out, body, type, headers);
    return out;
  }

  switch (type) {
    case 'application/x-ndjson': {
      decodeNdjson(body, (index, line, decoded) => collect(out, index, decoded, line));
      out.ndjson = body;
      return out;
    }
    case 'application/cloudevents-batch+json':
    case 'application/cloudevents+json':
    case 'application/json': {
      if (firstNonBlank(body) === '[') {
        // Each element is read, bounded and kept as the text it came as (json-records.ts).
        const cut = cutJsonArray(body);
        if (!cut.ok) throw bodyInvalid(cut.reason);
        cut.elements.forEach((element, i) => collect(out, i, decodeJson(element), element));
      } else if (type === 'application/cloudevents-batch+json') {
        throw bodyInvalid('application/cloudevents-batch+json must be a JSON array of events');
      } else {
        const problem = recordTextProblem(body);
        collect(out, 0, problem === undefined ? decodeEvent(parseJson(body)) : { ok: false, reason: problem }, body);
      }
      return out;
    }
    default:
      throw new HuitianError('UNSUPPORTED_MEDIA_TYPE', { contentType: type || '(none)' });
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw bodyInvalid(`invalid JSON (${(err as Error).message})`);
  }
}

/**
 * Binary mode: one record whose attributes are the `ce-*` headers. Its envelope is known
 * even when the body is not, so data that is too deep, too large or not JSON is a refused
 * record with its id, not an unreadable request.
 */
function parseBinaryMode(out: ParsedBody, body: string, type: string, headers: Record<string, string | string[] | undefined>): void {
  const flat: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) flat[k] = Array.isArray(v) ? v.join(',') : v;
  const raw = binaryModeText(flat, body);
  const isJson = type === 'application/json' || type.endsWith('+json') || type === '';
  let data: unknown = body;
  let problem = recordTextProblem(body);
  if (problem === undefined && isJson) {
    try {
      data = JSON.parse(body);
    } catch (err) {
      problem = `data: invalid JSON (${(err as Error).message})`;
    }
  }
  const event = fromBinaryMode(flat, data, 'ce-', type || undefined);
  let decoded: Decoded;
  if (event === undefined) decoded = { ok: false, reason: 'ce-specversion: is required' };
  else if (problem !== undefined) decoded = { ok: false, reason: problem, ...identityOf(event) };
  else decoded = decodeEvent(event);
  collect(out, 0, decoded, raw);
}

function identityOf(event: Record<string, unknown>): { id?: string; type?: string } {
  const out: { id?: string; type?: string } = {};
  if (typeof event.id === 'string' && event.id !== '') out.id = event.id;
  if (typeof event.type === 'string' && event.type !== '') out.type = event.type;
  return out;
}
