/**
 * Volume: the stream is generated lazily (memory follows the number of entities, not of
 * events) and the rate scale multiplies it: `mixed --duration 24h` is about 22,200
 * events per unit of rate scale. The benchmark's stream is `--rate-scale 50`
 * (1,111,619 events with seed 42; 45 is the least that passes a million). Counting it
 * takes several seconds; it always runs, so the benchmark's premise is always checked.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/simulator/simulate.js';
import { options } from './fixtures.js';

function count(rateScale: number, duration = '24h'): number {
  let n = 0;
  for (const _ of simulate(options('mixed', duration, { rateScale }))) n++;
  return n;
}

describe('volume', () => {
  it('streams ~50k events with bounded memory, and the rate scale multiplies the volume', () => {
    const one = count(1, '6h');
    const heapBefore = process.memoryUsage().heapUsed;
    let n = 0;
    let peak = 0;
    for (const _ of simulate(options('mixed', '6h', { rateScale: 8 }))) {
      if (++n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
    }
    expect(n).toBeGreaterThan(40_000);
    expect(n / one).toBeGreaterThan(7);
    expect(n / one).toBeLessThan(9);
    // Holding 40k+ lines would take well over 10 MB; the generators hold a few hundred entities.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });

  it('mixed 24h at rate scale 50 is over a million events', () => {
    expect(count(50)).toBeGreaterThanOrEqual(1_000_000);
  }, 120_000);
});
