/**
 * One generated event, before it is written as a CloudEvents line, and the few helpers
 * every scenario shares: Beijing-time formatting, sources, and the rate-scale replicas.
 */
import type { DataOf, EventType } from '../events/schemas.js';

/** A generated event; with no type argument, the union over all types (narrowed by `type`). */
export type SimEvent<T extends EventType = EventType> = T extends EventType
  ? {
      /** Event time, epoch ms (always whole seconds). */
      time: number;
      type: T;
      source: string;
      id: string;
      subject?: string;
      data: DataOf<T>;
    }
  : never;

/** CloudEvents `source` of each producer system. */
export const SOURCES = {
  waterlogging: '/sensors/waterlogging',
  dispatch: '/dispatch/119',
  parking: '/parking/guidance',
  utility: '/utility/scada',
} as const;

const BEIJING_OFFSET_MS = 8 * 3600_000;

/**
 * RFC 3339 in Beijing time (`2026-07-21T08:15:00+08:00`), as the district's producers
 * stamp their events. Built from `toISOString` of the shifted instant, which is
 * locale-independent; the stream is sorted, so consecutive events mostly share a second
 * and the last result is reused.
 */
export class BeijingTimeFormatter {
  private lastMs = Number.NaN;
  private lastText = '';

  format(ms: number): string {
    if (ms === this.lastMs) return this.lastText;
    const iso = new Date(ms + BEIJING_OFFSET_MS).toISOString(); // 2026-07-21T00:15:00.000Z
    this.lastMs = ms;
    this.lastText = `${iso.slice(0, 19)}+08:00`;
    return this.lastText;
  }
}

export function formatBeijing(ms: number): string {
  return new BeijingTimeFormatter().format(ms);
}

/** Hours since Beijing midnight of an instant, in [0, 24). */
export function beijingHourOfDay(ms: number): number {
  const local = ms + BEIJING_OFFSET_MS;
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3600_000;
}

/** Day of week in Beijing, 0 = Sunday. */
export function beijingDayOfWeek(ms: number): number {
  return new Date(ms + BEIJING_OFFSET_MS).getUTCDay();
}

/** Beijing calendar date as YYYYMMDD (for incident numbers). */
export function beijingDateCompact(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

/** Beijing month (1–12) and day of an instant. */
export function beijingMonthDay(ms: number): [number, number] {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  return [d.getUTCMonth() + 1, d.getUTCDate()];
}

/**
 * JSON text of a string. Names, districts, sources and types repeat on every event, and
 * quoting a Chinese (two-byte) string is the costliest part of writing a line, so the
 * quoted form of short strings is remembered (bounded: ids, which never repeat, are not).
 */
const quoted = new Map<string, string>();
const QUOTED_CACHE_LIMIT = 50_000;

function quote(text: string, remember: boolean): string {
  let q = quoted.get(text);
  if (q === undefined) {
    q = JSON.stringify(text);
    if (remember && quoted.size < QUOTED_CACHE_LIMIT) quoted.set(text, q);
  }
  return q;
}

/**
 * Writes one event as a structured-mode CloudEvents JSON line (no trailing newline).
 * Equivalent to `JSON.stringify` of the envelope with attributes in this fixed order
 * (the tests check it), but built by hand: at a million events this is the hot path.
 */
export function toCloudEventLine(e: SimEvent, times: BeijingTimeFormatter): string {
  let data = '';
  const fields = e.data as Record<string, unknown>;
  for (const key in fields) {
    const v = fields[key];
    if (v === undefined) continue;
    const text = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : typeof v === 'string' ? quote(v, key !== 'incidentId') : JSON.stringify(v);
    data += `${data === '' ? '' : ','}"${key}":${text}`;
  }
  const subject = e.subject === undefined ? '' : `,"subject":${quote(e.subject, true)}`;
  // Ids are built from entity ids (checked against /^[A-Z][A-Z0-9-]*$/ when the district
  // data loads), metric names and digits, so they need no escaping.
  return `{"specversion":"1.0","id":"${e.id}","source":${quote(e.source, true)},"type":${quote(e.type, true)},"time":"${times.format(e.time)}"${subject},"data":{${data}}}`;
}

/**
 * Rate scale → (copies of each reference entity, factor on reading intervals) so that
 * copies × (1 / factor) = scale: whole copies for volume and distinct entities, the
 * fractional rest as faster readings. Below 1 there is one copy reading less often.
 */
export function replicaPlan(rateScale: number): { copies: number; intervalFactor: number } {
  const copies = Math.max(1, Math.ceil(rateScale - 1e-9));
  return { copies, intervalFactor: copies / rateScale };
}

/** Id and name of copy `k` (0-based) of a reference entity; copy 0 is the entity itself. */
export function replicaId(id: string, k: number): string {
  return k === 0 ? id : `${id}-R${String(k + 1).padStart(3, '0')}`;
}

export function replicaName(name: string, k: number): string {
  return k === 0 ? name : `${name}（${k + 1}号）`;
}

/** Zero-padded sequence number for event ids. */
export function seq(n: number, width = 6): string {
  return String(n).padStart(width, '0');
}
