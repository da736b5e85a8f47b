/**
 * Writing instants in the hub's zone: RFC 3339 with the zone's offset (Beijing time by
 * default), the same instant as toISOString; local days; across a DST change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from '../../src/events/event-time.js';
import { formatInZone, formatLocalDateTime, isTimeZone, offsetMinutesAt, startOfLocalDay, zoneLabel } from '../../src/time/time-zone.js';

const T = Date.parse('2026-07-21T00:15:00Z');

describe('time zones', () => {
  it('writes Beijing time with +08:00, milliseconds only when there are any', () => {
    expect(formatInZone(T, 'Asia/Shanghai')).toBe('2026-07-21T08:15:00+08:00');
    expect(formatInZone(T + 250, 'Asia/Shanghai')).toBe('2026-07-21T08:15:00.250+08:00');
    expect(formatInZone(T + 5, 'Asia/Shanghai')).toBe('2026-07-21T08:15:00.005+08:00');
    // Fractions of a millisecond are dropped, as toISOString drops them.
    expect(formatInZone(T + 762.2698, 'Asia/Shanghai')).toBe('2026-07-21T08:15:00.762+08:00');
    expect(formatInZone(T - 0.5, 'UTC')).toBe(new Date(T - 0.5).toISOString().replace('Z', '+00:00'));
    // 19:15 UTC is 03:15 the next day in Beijing (the example).
    expect(formatInZone(Date.parse('2026-07-20T19:15:35.000Z'), 'Asia/Shanghai')).toBe('2026-07-21T03:15:35+08:00');
    expect(formatInZone(T, 'UTC')).toBe('2026-07-21T00:15:00+00:00');
    expect(formatInZone(T, 'Asia/Kathmandu')).toBe('2026-07-21T06:00:00+05:45');
    expect(formatInZone(T, 'America/St_Johns')).toBe('2026-07-20T21:45:00-02:30');
  });

  it('follows daylight saving time', () => {
    expect(offsetMinutesAt(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(60);
    expect(offsetMinutesAt(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(120);
    // Berlin springs forward at 01:00 UTC on 2026-03-29.
    expect(formatInZone(Date.parse('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe('2026-03-29T01:59:59+01:00');
    expect(formatInZone(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00:00+02:00');
  });

  it('always names the same instant (a property over instants and zones)', () => {
    const zones = ['Asia/Shanghai', 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('1971-01-01T00:00:00Z'), max: Date.parse('2099-12-31T00:00:00Z') }), fc.constantFrom(...zones), (ms, zone) => {
        const text = formatInZone(ms, zone);
        expect(parseRfc3339(text)).toBe(ms);
        expect(new Date(parseRfc3339(text)!).toISOString()).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the local date and time for people, with the zone’s name', () => {
    expect(formatLocalDateTime(T, 'Asia/Shanghai')).toBe('2026-07-21 08:15:00');
    expect(zoneLabel('Asia/Shanghai', T, 'zh')).toBe('北京时间');
    expect(zoneLabel('Asia/Shanghai', T, 'en')).toBe('Beijing time');
    expect(zoneLabel('Asia/Tokyo', T, 'zh')).toBe('UTC+09:00');
  });

  it('finds the start of the local day', () => {
    expect(formatInZone(startOfLocalDay(T, 'Asia/Shanghai'), 'Asia/Shanghai')).toBe('2026-07-21T00:00:00+08:00');
    // 23:30 UTC on the 20th is already the 21st in Beijing.
    expect(formatInZone(startOfLocalDay(Date.parse('2026-07-20T23:30:00Z'), 'Asia/Shanghai'), 'Asia/Shanghai')).toBe('2026-07-21T00:00:00+08:00');
    expect(formatInZone(startOfLocalDay(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Berlin'), 'Europe/Berlin')).toBe('2026-03-29T00:00:00+01:00');
  });

  it('knows IANA names and refuses others', () => {
    for (const z of ['Asia/Shanghai', 'UTC', 'Europe/Berlin']) expect(isTimeZone(z)).toBe(true);
    for (const z of ['', 'Beijing', 'Asia/Peking']) expect(isTimeZone(z)).toBe(false);
  });
});
