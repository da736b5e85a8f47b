/**
 * CloudEvents binary content mode: the envelope travels as headers (`ce-*` over HTTP,
 * `ce_*` over Kafka) and the body is `data`. Both transports meet here, so the rule for
 * turning headers into a structured event is written once.
 */

/** Header prefix per protocol binding (CloudEvents HTTP and Kafka protocol bindings). */
export type BindingPrefix = 'ce-' | 'ce_';

/**
 * Builds a structured CloudEvent from binary-mode headers and the decoded body, or
 * returns undefined when the headers do not carry a binary-mode event.
 * Header names are compared case-insensitively. HTTP header values are
 * percent-encoded by the HTTP binding (§3.1.3.2); Kafka header values are plain UTF-8.
 */
export function fromBinaryMode(
  headers: Record<string, string | undefined>,
  data: unknown,
  prefix: BindingPrefix,
  contentType?: string,
): Record<string, unknown> | undefined {
  const event: Record<string, unknown> = {};
  let found = false;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (!lower.startsWith(prefix)) continue;
    const attribute = lower.slice(prefix.length);
    if (attribute === '') continue;
    event[attribute] = prefix === 'ce-' ? percentDecode(value) : value;
    found = true;
  }
  if (!found || event.specversion === undefined) return undefined;
  if (contentType !== undefined && event.datacontenttype === undefined) event.datacontenttype = contentType;
  event.data = data;
  return event;
}

/** Detects a binary-mode message by its specversion header. */
export function hasBinaryModeHeaders(headers: Record<string, unknown>, prefix: BindingPrefix): boolean {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === `${prefix}specversion`) return true;
  return false;
}

function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A binary-mode record as received, for a dead letter: its binding headers (and
 * content type) as `name: value` lines, values as sent (still percent-encoded), a blank
 * line, then the body — the shape of the HTTP message it came in.
 */
export function binaryModeText(headers: Record<string, string | undefined>, body: string, prefix: BindingPrefix = 'ce-'): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith(prefix) || lower === 'content-type') lines.push(`${lower}: ${value}`);
  }
  return `${lines.join('\n')}\n\n${body}`;
}
