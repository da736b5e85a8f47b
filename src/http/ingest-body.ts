/**
 * Turns a POST /v1/events body into decoded candidates and rejections, for every
 * encoding the CloudEvents HTTP binding and our contract allow:
 * - structured mode, one event: application/cloudevents+json or application/json;
 * - batched mode: application/cloudevents-batch+json (a JSON array);
 * - NDJSON: application/x-ndjson, one event per line (what `huitian replay` sends);
 * - binary mode: `ce-*` headers carry the attributes and the body is `data`.
 * Every record is decoded on its own, so one bad neighbour never costs a valid event.
 */
import { fromBinaryMode, hasBinaryModeHeaders } from '../events/binary-mode.js';
import { decodeEvent, type Decoded } from '../events/decode.js';
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

function collect(out: ParsedBody, index: number, decoded: Decoded, raw: () => string): void {
  out.total++;
  if (decoded.ok) out.candidates.push({ index, event: decoded.event });
  else out.rejections.push({ index, id: decoded.id ?? null, type: decoded.type ?? null, reason: decoded.reason, raw: raw() });
}

/** The body as a whole cannot be read; `details` says why (it also becomes the record's reason). */
export function bodyInvalid(details: string): HuitianError {
  return new HuitianError('BODY_INVALID', { details }, { details });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw bodyInvalid(`invalid JSON (${(err as Error).message})`);
  }
}

export function parseIngestBody(body: string, contentType: string | undefined, headers: Record<string, string | string[] | undefined>): ParsedBody {
  const type = mediaType(contentType);
  const out: ParsedBody = { candidates: [], rejections: [], total: 0 };
  if (body.trim() === '') throw bodyInvalid('the body is empty');

  // The content type decides the mode (CloudEvents HTTP binding §3): application/cloudevents…
  // is structured or batched whatever headers a proxy or SDK added, and so is our NDJSON.
  const structured = type.startsWith('application/cloudevents') || type === 'application/x-ndjson';
  if (!structured && hasBinaryModeHeaders(headers, 'ce-')) {
    const data = type === 'application/json' || type.endsWith('+json') || type === '' ? parseJson(body) : body;
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(headers)) flat[k] = Array.isArray(v) ? v.join(',') : v;
    const event = fromBinaryMode(flat, data, 'ce-', type || undefined);
    collect(out, 0, event === undefined ? { ok: false, reason: 'ce-specversion: is required' } : decodeEvent(event), () => body);
    return out;
  }

  switch (type) {
    case 'application/x-ndjson': {
      decodeNdjson(body, (index, line, decoded) => {
        if (decoded.ok) {
          out.total++;
          out.candidates.push({ index, event: decoded.event, raw: line });
        } else {
          collect(out, index, decoded, () => line);
        }
      });
      out.ndjson = body;
      return out;
    }
    case 'application/cloudevents-batch+json':
    case 'application/cloudevents+json':
    case 'application/json': {
      const value = parseJson(body);
      if (Array.isArray(value)) {
        value.forEach((v, i) => collect(out, i, decodeEvent(v), () => JSON.stringify(v)));
      } else if (type === 'application/cloudevents-batch+json') {
        throw bodyInvalid('application/cloudevents-batch+json must be a JSON array of events');
      } else {
        collect(out, 0, decodeEvent(value), () => body);
      }
      return out;
    }
    default:
      throw new HuitianError('UNSUPPORTED_MEDIA_TYPE', { contentType: type || '(none)' });
  }
}
