/**
 * The record bounds and the JSON array cutter (src/events/json-records.ts): an array is
 * cut into exactly the texts of its elements, nesting is measured as JSON.parse nests,
 * and a record beyond the bounds is refused before it is parsed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson } from '../../src/events/decode.js';
import { cutJsonArray, DEPTH_REASON, MAX_RECORD_BYTES, MAX_RECORD_DEPTH, nestingDepth, recordTextProblem, SIZE_REASON } from '../../src/events/json-records.js';
import { runs } from '../helpers/property-runs.js';

/** Depth as JSON.parse builds it: objects and arrays each one level. */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce((m: number, c) => Math.max(m, depthOf(c)), 0);
}

// Strings full of the characters the cutter must not be fooled by.
const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', ',', '"', '\\', ' ', 'a', '回', '\n') });
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('cutJsonArray', () => {
  it('cuts any JSON array, however spaced, into its elements’ texts', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 6 }), fc.boolean(), (items, pretty) => {
        const text = JSON.stringify(items, null, pretty ? 2 : undefined);
        const cut = cutJsonArray(` \n${text}\t`);
        expect(cut.ok).toBe(true);
        if (!cut.ok) return;
        expect(cut.elements.map((e) => JSON.parse(e))).toEqual(items);
        cut.elements.forEach((e, i) => expect(nestingDepth(e)).toBe(depthOf(items[i])));
      }),
      { numRuns: runs(300) },
    );
  });

  it('keeps elements that are not JSON as elements, and refuses a broken array', () => {
    expect(cutJsonArray('[1, {"a": ] , "x,]" ,, ]')).toEqual({ ok: true, elements: ['1', '{"a": ]', '"x,]"', '', ''] });
    expect(cutJsonArray('[]')).toEqual({ ok: true, elements: [] });
    expect(cutJsonArray('[ ]')).toEqual({ ok: true, elements: [] });
    expect(cutJsonArray('[,]')).toEqual({ ok: true, elements: ['', ''] });
    expect(cutJsonArray('[1, 2')).toEqual({ ok: false, reason: 'invalid JSON (the array is not closed)' });
    expect(cutJsonArray('[1] 2')).toEqual({ ok: false, reason: 'invalid JSON (text after the array)' });
    expect(cutJsonArray('["1]')).toEqual({ ok: false, reason: 'invalid JSON (unterminated string)' });
    expect(cutJsonArray('[1}')).toEqual({ ok: false, reason: 'invalid JSON (unbalanced brackets)' });
    expect(cutJsonArray('{"a": 1}')).toEqual({ ok: false, reason: 'not a JSON array' });
  });
});

describe('record bounds', () => {
  const event = (extra: string) =>
    `{"specversion":"1.0","id":"e1","source":"/s","type":"huitian.waterlogging.reading","time":"2026-07-21T08:00:00+08:00","data":{"pointId":"P1","depthCm":1${extra}}}`;

  it(`refuses nesting deeper than ${MAX_RECORD_DEPTH} levels, counting only structure outside strings`, () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    // The envelope and data are two levels.
    expect(decodeJson(event(`,"x":${nested(MAX_RECORD_DEPTH - 2)}`)).ok).toBe(true);
    expect(decodeJson(event(`,"x":${nested(MAX_RECORD_DEPTH - 1)}`))).toEqual({ ok: false, reason: DEPTH_REASON });
    expect(decodeJson(nested(100_000))).toEqual({ ok: false, reason: DEPTH_REASON });
    expect(recordTextProblem(event(`,"name":${JSON.stringify('{['.repeat(200))}`))).toBeUndefined();
  });

  it(`refuses a record larger than ${MAX_RECORD_BYTES} UTF-8 bytes`, () => {
    const pad = (chars: number, unit: string) => event(`,"name":"${unit.repeat(chars)}"`);
    const base = event(',"name":""').length;
    expect(recordTextProblem(pad(MAX_RECORD_BYTES - base, 'x'))).toBeUndefined();
    expect(recordTextProblem(pad(MAX_RECORD_BYTES - base + 1, 'x'))).toBe(SIZE_REASON);
    // 回 is 3 bytes in UTF-8: a third as many characters reach the same size.
    const third = Math.floor((MAX_RECORD_BYTES - base) / 3);
    expect(recordTextProblem(pad(third, '回'))).toBeUndefined();
    expect(recordTextProblem(pad(third + 1, '回'))).toBe(SIZE_REASON);
    expect(decodeJson(pad(MAX_RECORD_BYTES, 'x'))).toEqual({ ok: false, reason: SIZE_REASON });
  });
});
