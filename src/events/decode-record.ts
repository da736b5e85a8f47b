/**
 * Decodes one message from a broker (Kafka record, JetStream message) into a candidate
 * or a rejection: structured mode (the value is the CloudEvent) or binary mode (the
 * attributes are `ce_`/`ce-` headers and the value is `data`).
 */
import { fromBinaryMode, hasBinaryModeHeaders, type BindingPrefix } from './binary-mode.js';
import { decodeEvent, type Decoded } from './decode.js';
import { recordTextProblem } from './json-records.js';

export function decodeRecord(value: string, headers: Record<string, string | undefined>, prefix: BindingPrefix): Decoded {
  const problem = recordTextProblem(value);
  if (problem !== undefined) return { ok: false, reason: problem };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    if (!hasBinaryModeHeaders(headers, prefix)) return { ok: false, reason: `(event): invalid JSON (${(err as Error).message})` };
    parsed = value; // binary mode with non-JSON data: let the contract reject it by field
  }
  if (hasBinaryModeHeaders(headers, prefix)) {
    const contentType = headers['content-type'] ?? headers['Content-Type'];
    const event = fromBinaryMode(headers, parsed, prefix, contentType);
    return event === undefined ? { ok: false, reason: `${prefix}specversion: is required` } : decodeEvent(event);
  }
  return decodeEvent(parsed);
}
