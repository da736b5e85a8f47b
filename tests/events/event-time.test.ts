/** RFC 3339 event times with a mandatory offset: every field checked, nothing rolled over. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRfc3339, matchesRfc3339Pattern, parseRfc3339 } from '../../src/events/event-time.js';
import { RFC3339_PATTERN } from '../../src/events/schemas.js';
import { runs } from '../helpers/property-runs.js';

describe('parseRfc3339', () => {
  const valid: Array<[string, number]> = [
    ['2026-07-21T08:15:00+08:00', Date.UTC(2026, 6, 21, 0, 15, 0)],
    ['2026-07-21T00:15:00Z', Date.UTC(2026, 6, 21, 0, 15, 0)],
    ['2026-07-21t00:15:00z', Date.UTC(2026, 6, 21, 0, 15, 0)],
    ['2026-07-21 00:15:00Z', Date.UTC(2026, 6, 21, 0, 15, 0)],
    ['2026-07-20T19:45:00-04:30', Date.UTC(2026, 6, 21, 0, 15, 0)],
    ['2026-07-21T00:15:00.5Z', Date.UTC(2026, 6, 21, 0, 15, 0, 500)],
    ['2026-07-21T00:15:00.123456789Z', Date.UTC(2026, 6, 21, 0, 15, 0, 123)],
    ['2026-07-21T00:15:00.007+00:00', Date.UTC(2026, 6, 21, 0, 15, 0, 7)],
    ['2028-02-29T12:00:00Z', Date.UTC(2028, 1, 29, 12)],
    ['2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
    // A leap second folds onto :59 so that ordering holds.
    ['2016-12-31T23:59:60Z', Date.UTC(2016, 11, 31, 23, 59, 59)],
    ['2026-12-31T23:59:59+23:59', Date.UTC(2026, 11, 31, 0, 0, 59)],
  ];
  for (const [text, expected] of valid) {
    it(`reads ${text}`, () => expect(parseRfc3339(text)).toBe(expected));
  }

  it('keeps years below 100 where they are (Date.UTC would move them to the 1900s)', () => {
    expect(parseRfc3339('0050-03-01T00:00:00Z')).toBe(Date.parse('0050-03-01T00:00:00Z'));
    expect(parseRfc3339('0000-02-29T00:00:00Z')).toBe(Date.parse('0000-02-29T00:00:00Z'));
    expect(parseRfc3339('0099-12-31T23:59:59Z')).toBe(Date.parse('0099-12-31T23:59:59Z'));
  });

  const invalid = [
    '2026-07-21T08:15:00', // no offset
    '2026-07-21',
    '2026-07-21T08:15Z', // no seconds
    '2026-02-30T08:00:00Z', // Feb 30
    '2026-02-29T08:00:00Z', // 2026 is not a leap year
    '1900-02-29T08:00:00Z', // nor is 1900
    '2026-04-31T08:00:00Z',
    '2026-00-10T08:00:00Z',
    '2026-13-10T08:00:00Z',
    '2026-07-00T08:00:00Z',
    '2026-07-21T24:00:00Z',
    '2026-07-21T23:60:00Z',
    '2026-07-21T23:59:61Z',
    '2026-07-21T08:15:00+24:00',
    '2026-07-21T08:15:00+08:60',
    '2026-07-21T08:15:00+0800',
    '2026-07-21T08:15:00.Z',
    '2026-07-21T08:15:00.1234567890Z',
    ' 2026-07-21T08:15:00Z',
    '2026-07-21T08:15:00Z ',
    '２０２６-07-21T08:15:00Z', // full-width digits
    '',
  ];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)}`, () => expect(parseRfc3339(text)).toBeUndefined());
  }

  it('agrees with Date.parse on every well-formed instant it accepts', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (d, offsetMin) => {
        const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const text = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseRfc3339(text)).toBe(d.getTime());
      }),
      { numRuns: runs(500) },
    );
  });
});

describe('formatRfc3339', () => {
  it('writes UTC with milliseconds and round-trips', () => {
    const t = Date.UTC(2026, 6, 21, 0, 15, 0, 250);
    expect(formatRfc3339(t)).toBe('2026-07-21T00:15:00.250Z');
    expect(parseRfc3339(formatRfc3339(t))).toBe(t);
  });
});

describe('matchesRfc3339Pattern', () => {
  const pattern = new RegExp(RFC3339_PATTERN);
  const samples = [
    '2026-07-21T08:15:00+08:00',
    '2026-07-21 08:15:00Z',
    '2026-07-21t08:15:00.123456789z',
    '2026-02-30T24:60:61+24:99', // the shape only: values are checked by the parser
    '2026-07-21T08:15:00.1234567890Z',
    '2026-07-21T08:15:00.Z',
    '2026-07-21T08:15:00+0800',
    '2026-07-21T08:15:00',
    '2026-07-21T08:15Z',
    '２０２６-07-21T08:15:00Z',
    '',
  ];
  for (const text of samples) {
    it(`agrees with the schema's pattern on ${JSON.stringify(text)}`, () => expect(matchesRfc3339Pattern(text)).toBe(pattern.test(text)));
  }

  it("agrees with the schema's pattern on timestamps with one character changed, dropped or added", () => {
    const alphabet = '0123456789-:.+TtZz x９';
    fc.assert(
      fc.property(
        fc.constantFrom(...samples.slice(0, 3)),
        fc.nat(),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'delete', 'insert'),
        (base, at, ch, edit) => {
          const i = at % (base.length + 1);
          const text =
            edit === 'replace' ? base.slice(0, i) + ch + base.slice(i + 1) : edit === 'delete' ? base.slice(0, i) + base.slice(i + 1) : base.slice(0, i) + ch + base.slice(i);
          expect(matchesRfc3339Pattern(text)).toBe(pattern.test(text));
        },
      ),
      { numRuns: runs(3000) },
    );
  });

  it("agrees with the schema's pattern on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        expect(matchesRfc3339Pattern(text)).toBe(pattern.test(text));
      }),
      { numRuns: runs(2000) },
    );
  });
});
