/**
 * GB/T 35965.1-2018 message identifiers: `ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N` — the issuer
 * code (GB/T 2260 district code, GB/T 4657 organisation code, internal unit, extension),
 * the time in Beijing time, and a sequence number among the issuer's messages of that
 * second, counted from 0. The standard gives N one digit; a storm can open more than ten
 * alerts in one second, so N takes as many digits as it needs (0–9 stay one digit).
 */

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** `YYYYMMDDhhmmss` in Beijing time (UTC+8, no daylight saving). */
export function beijingTimeCode(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + BEIJING_OFFSET_MS).toISOString();
  return d.slice(0, 19).replace(/[-T:]/g, '');
}

/** `YYYY-MM-DDThh:mm:ss+08:00`: CAP's dateTime form (no fraction), in Beijing time. */
export function beijingCapTime(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + BEIJING_OFFSET_MS).toISOString();
  return `${d.slice(0, 19)}+08:00`;
}

export function capIdentifier(issuerCode: string, sentMs: number, sequence: number): string {
  return `${issuerCode}_${beijingTimeCode(sentMs)}_${sequence}`;
}

/**
 * The second a version's message is sent at: its last change (the newest of its opening
 * and its history entries), cut to the second the identifier names.
 */
export function capSentSecondOf(a: { openedAt: number; history: ReadonlyArray<{ at: number }> }): number {
  let sent = a.openedAt;
  for (const h of a.history) if (h.at > sent) sent = h.at;
  return Math.floor(sent / 1000) * 1000;
}
