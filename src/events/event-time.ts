/**
 * RFC 3339 timestamps with a mandatory offset (the contract's `time`).
 *
 * `Date.parse` is not used: V8 accepts `2026-02-30` (rolling it into March) and
 * `24:00:00`, and a silently shifted event time would corrupt every KPI minute it
 * lands in. This parser checks every field and computes epoch milliseconds itself,
 * which is also several times faster on the ingest hot path.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The fields of a timestamp that has the shape of RFC3339_PATTERN (schemas.ts):
 * `YYYY-MM-DD[Tt ]HH:MM:SS(.d{1,9})?([Zz]|[+-]HH:MM)`, ASCII digits only. Read by char
 * codes instead of a regular expression: a regex match allocates its groups and their
 * strings, and this runs for every new time string at ingest rates. Field ranges are not
 * checked here. Scratch state, reused: only valid until the next scan.
 */
const scanned = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millis: 0, offsetHours: 0, offsetMinutes: 0, offsetSign: 1 };

/** Value of `count` ASCII digits at `at`, or -1 when one is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    // written so that NaN (past the end of the text) is refused too
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

function scan(text: string): boolean {
  const n = text.length;
  if (n < 20) return false;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return false;
  const sep = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false;
  if (sep !== 84 && sep !== 116 && sep !== 32) return false; // T, t, space
  let i = 19;
  let millis = 0;
  if (text.charCodeAt(i) === 46) {
    // a fraction of 1 to 9 digits; milliseconds are its first three
    i++;
    const from = i;
    while (i < n && i - from < 10) {
      const d = text.charCodeAt(i) - 48;
      if (!(d >= 0 && d <= 9)) break;
      if (i - from < 3) millis += d * (i - from === 0 ? 100 : i - from === 1 ? 10 : 1);
      i++;
    }
    const length = i - from;
    if (length < 1 || length > 9) return false;
  }
  const zone = text.charCodeAt(i);
  let offH = 0;
  let offM = 0;
  if (zone === 90 || zone === 122) {
    // Z or z
    if (i + 1 !== n) return false;
  } else if (zone === 43 || zone === 45) {
    if (i + 6 !== n || text.charCodeAt(i + 3) !== 58) return false;
    offH = digitsAt(text, i + 1, 2);
    offM = digitsAt(text, i + 4, 2);
    if (offH < 0 || offM < 0) return false;
  } else {
    return false;
  }
  scanned.year = year;
  scanned.month = month;
  scanned.day = day;
  scanned.hour = hour;
  scanned.minute = minute;
  scanned.second = second;
  scanned.millis = millis;
  scanned.offsetHours = offH;
  scanned.offsetMinutes = offM;
  scanned.offsetSign = zone === 45 ? -1 : 1;
  return true;
}

/** Whether `text` has the shape of RFC3339_PATTERN (what the envelope's zod schema checks). */
export function matchesRfc3339Pattern(text: string): boolean {
  return scan(text);
}

// A stream is in time order, and consecutive events mostly share their second (a replay
// of the benchmark's stream repeats the previous event's time string 9 times in 10):
// remembering the last answer skips most parses at ingest rates.
let lastText = '';
let lastValue: number | undefined;

/** Epoch milliseconds of an RFC 3339 timestamp with offset, or `undefined` when it is not one. */
export function parseRfc3339(text: string): number | undefined {
  if (text === lastText) return lastValue;
  const value = parse(text);
  lastText = text;
  lastValue = value;
  return value;
}

function parse(text: string): number | undefined {
  if (!scan(text)) return undefined;
  const { year, month, day, hour, minute, millis, offsetHours, offsetMinutes, offsetSign } = scanned;
  let second = scanned.second;
  if (month < 1 || month > 12 || day < 1) return undefined;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay || hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (23:59:60) is legal RFC 3339; it is folded onto :59 so ordering holds.
  if (second === 60) second = 59;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  // Date.UTC reads years 0–99 as 1900–1999; shifting by one 400-year Gregorian cycle
  // (exactly 146097 days) keeps year 0050 in year 50 instead of silently in 1950.
  const utc =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - GREGORIAN_CYCLE_MS
      : Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return utc - offsetSign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

/** Formats epoch milliseconds as RFC 3339 in UTC (what the API returns). */
export function formatRfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
