/** The fixed-bucket response-time histogram: 5 s to 30 min, 60 s to 2 h, then open. */
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_BOUNDS, histogramField, isHistogramField, OVERFLOW_FIELD, percentileFromFields, percentileOfSeconds } from '../../src/kpis/histogram.js';

describe('histogramField', () => {
  const table: Array<[number, string]> = [
    [0, 'rt_le_5'],
    [0.001, 'rt_le_5'],
    [5, 'rt_le_5'],
    [5.001, 'rt_le_10'],
    [299.999, 'rt_le_300'],
    [300, 'rt_le_300'],
    [300.001, 'rt_le_305'],
    [301, 'rt_le_305'],
    [1800, 'rt_le_1800'],
    [1800.5, 'rt_le_1860'],
    [1860, 'rt_le_1860'],
    [7200, 'rt_le_7200'],
    [7200.001, OVERFLOW_FIELD],
    [1e9, OVERFLOW_FIELD],
  ];
  for (const [seconds, field] of table) it(`${seconds} s → ${field}`, () => expect(histogramField(seconds)).toBe(field));

  it('has 360 five-second and 90 one-minute buckets, every one reachable', () => {
    expect(HISTOGRAM_BOUNDS).toHaveLength(450);
    expect(HISTOGRAM_BOUNDS[0]).toBe(5);
    expect(HISTOGRAM_BOUNDS[359]).toBe(1800);
    expect(HISTOGRAM_BOUNDS[360]).toBe(1860);
    expect(HISTOGRAM_BOUNDS.at(-1)).toBe(7200);
    for (const b of HISTOGRAM_BOUNDS) expect(histogramField(b)).toBe(`rt_le_${b}`);
  });

  it('names fields so that stores can tell them apart', () => {
    expect(isHistogramField('rt_le_300')).toBe(true);
    expect(isHistogramField(OVERFLOW_FIELD)).toBe(true);
    expect(isHistogramField('rt_sum')).toBe(false);
  });
});

describe('percentileFromFields', () => {
  it('nearest rank: the bucket of the ⌈q·n⌉-th smallest value', () => {
    // 10 values: rank 9 for p90.
    const f = { rt_le_60: 8, rt_le_120: 1, rt_le_600: 1 };
    expect(percentileFromFields(f, 0.9)).toBe(120);
    expect(percentileFromFields(f, 0.8)).toBe(60);
    expect(percentileFromFields(f, 0.91)).toBe(600);
    expect(percentileFromFields(f, 1)).toBe(600);
    expect(percentileFromFields(f, 0)).toBe(60);
  });

  it('ignores other fields, and is null when empty', () => {
    expect(percentileFromFields({ covered: 3, rt_sum: 100 }, 0.9)).toBeNull();
    expect(percentileFromFields({ covered: 3, rt_le_30: 2 }, 0.9)).toBe(30);
  });

  it('reports the open bucket as its lower bound', () => {
    expect(percentileFromFields({ rt_le_60: 1, [OVERFLOW_FIELD]: 9 }, 0.9)).toBe(7200);
  });

  it('percentileOfSeconds bins raw values the same way (the simulators’ truth)', () => {
    expect(percentileOfSeconds([300, 301, 120, 60], 0.9)).toBe(305);
    expect(percentileOfSeconds([], 0.9)).toBeNull();
    expect(percentileOfSeconds(Array.from({ length: 100 }, (_, i) => i + 1), 0.9)).toBe(90);
  });
});
