/** Times shown in the hub's zone (the service's HUITIAN_TIMEZONE, from /v1/status), whatever the browser's zone. */

let zone = 'Asia/Shanghai';
let format = make(zone);

function make(z: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-CA', { timeZone: z, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function setZone(z: string): void {
  if (z === zone) return;
  zone = z;
  format = make(z);
}

/** `2026-07-21 08:15:00` from an RFC 3339 string or epoch ms; `—` for none. */
export function localTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return String(value);
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** `08:15` for chart axes. */
export function localHourMinute(value: string | number): string {
  return localTime(value).slice(11, 16);
}

/** 42 s, 5 min, 3.2 h, 2.1 d. */
export function duration(seconds: number | null, lang: 'zh' | 'en'): string {
  if (seconds === null) return '—';
  const s = Math.abs(seconds);
  const [sec, min, hr, day] = lang === 'zh' ? [' 秒', ' 分钟', ' 小时', ' 天'] : [' s', ' min', ' h', ' d'];
  const sign = seconds < 0 ? '−' : '';
  if (s < 90) return `${sign}${Math.round(s)}${sec}`;
  if (s < 90 * 60) return `${sign}${Math.round(s / 60)}${min}`;
  if (s < 36 * 3600) return `${sign}${(s / 3600).toFixed(1)}${hr}`;
  return `${sign}${(s / 86400).toFixed(1)}${day}`;
}
