/**
 * Times shown to people and written by the API are local to the hub's time zone
 * (`HUITIAN_TIMEZONE`, default Asia/Shanghai: Beijing time, DESIGN §5). Stored and computed
 * times stay epoch milliseconds; only writing them out depends on the zone.
 *
 * Pure: the zone is passed in (from the configuration), the instant too. The offset comes
 * from the IANA database through Intl, remembered per 15-minute UTC slot — every offset
 * change of the last century happens on one — because Intl's formatToParts costs
 * microseconds and an alert list writes a few timestamps per alert.
 */

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The offset slot: every transition since 1900 falls on a quarter hour of UTC. */
const SLOT_MS = 15 * 60_000;
const MAX_REMEMBERED = 4096;

interface ZoneData {
  format: Intl.DateTimeFormat;
  offsets: Map<number, number>;
}

const zones = new Map<string, ZoneData>();

function zoneData(zone: string): ZoneData {
  let z = zones.get(zone);
  if (z === undefined) {
    z = {
      format: new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
      offsets: new Map(),
    };
    zones.set(zone, z);
  }
  return z;
}

/** Whether `zone` is an IANA time zone name this runtime knows (e.g. Asia/Shanghai, UTC). */
export function isTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `ms`, in whole minutes (east positive). */
export function offsetMinutesAt(ms: number, zone: string): number {
  const z = zoneData(zone);
  const slot = Math.floor(ms / SLOT_MS);
  const known = z.offsets.get(slot);
  if (known !== undefined) return known;
  // The instant's wall-clock fields in the zone, read as if they were UTC, minus the instant.
  const parts = z.format.formatToParts(new Date(slot * SLOT_MS));
  const f: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') f[p.type] = Number(p.value);
  const asUtc = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
  // Before standard time (local mean time) offsets had seconds; RFC 3339 offsets cannot.
  const offset = Math.round((asUtc - slot * SLOT_MS) / 60_000);
  if (z.offsets.size >= MAX_REMEMBERED) z.offsets.clear();
  z.offsets.set(slot, offset);
  return offset;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(m / 60))}:${pad2(m % 60)}`;
}

/** `YYYY-MM-DD`, `HH:MM:SS` and the millisecond part of the local time at `ms`. */
function localFields(ms: number, zone: string): { date: string; time: string; millis: number; offset: number } {
  const offset = offsetMinutesAt(ms, zone);
  const iso = new Date(ms + offset * 60_000).toISOString(); // the local fields, labelled Z
  return { date: iso.slice(0, 10), time: iso.slice(11, 19), millis: ms - Math.floor(ms / 1000) * 1000, offset };
}

/**
 * RFC 3339 with the zone's offset: `2026-07-21T08:15:00+08:00`, milliseconds only when
 * there are any (`…T08:15:00.250+08:00`). The same instant as `toISOString()`, written
 * the way an operator in Beijing reads it.
 */
export function formatInZone(ms: number, zone: string): string {
  // Whole milliseconds, as Date keeps them (a backoff with jitter computes fractions).
  const { date, time, millis, offset } = localFields(Math.floor(ms), zone);
  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0')}`;
  return `${date}T${time}${fraction}${offsetText(offset)}`;
}

/** What a person reads: `2026-07-21 08:15:00`, local to the zone (seconds, no offset). */
export function formatLocalDateTime(ms: number, zone: string): string {
  const { date, time } = localFields(ms, zone);
  return `${date} ${time}`;
}

/** The name of the zone's time in a sentence: 北京时间 / Beijing time, else `UTC+09:00`. */
export function zoneLabel(zone: string, ms: number, lang: 'zh' | 'en'): string {
  if (BEIJING.has(zone)) return lang === 'zh' ? '北京时间' : 'Beijing time';
  return `UTC${offsetText(offsetMinutesAt(ms, zone))}`;
}

/** IANA names of China Standard Time (the others are links to Asia/Shanghai). */
const BEIJING = new Set(['Asia/Shanghai', 'Asia/Chongqing', 'Asia/Chungking', 'Asia/Harbin', 'PRC']);

/** Start (epoch ms) of the local calendar day that contains `ms`. */
export function startOfLocalDay(ms: number, zone: string): number {
  const midnightAsUtc = Date.parse(`${localFields(ms, zone).date}T00:00:00Z`);
  // The offset at local midnight, found from the offset at `ms` (they differ only across a change).
  const guess = midnightAsUtc - offsetMinutesAt(ms, zone) * 60_000;
  return midnightAsUtc - offsetMinutesAt(guess, zone) * 60_000;
}
