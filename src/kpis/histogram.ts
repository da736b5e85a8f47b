/**
 * Fixed-bucket histogram of response times, stored as partial fields so that it merges
 * by addition like every other partial. 5 s buckets up to 30 min (the resolution the
 * percentile needs where response standards live), 60 s buckets up to 2 h, then one
 * open bucket.
 */

const FINE_STEP_S = 5;
const FINE_LIMIT_S = 1800;
const COARSE_STEP_S = 60;
const COARSE_LIMIT_S = 7200;

/** Upper bounds (inclusive, seconds) of the finite buckets, ascending. */
export const HISTOGRAM_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let s = FINE_STEP_S; s <= FINE_LIMIT_S; s += FINE_STEP_S) bounds.push(s);
  for (let s = FINE_LIMIT_S + COARSE_STEP_S; s <= COARSE_LIMIT_S; s += COARSE_STEP_S) bounds.push(s);
  return bounds;
})();

export const OVERFLOW_FIELD = 'rt_le_inf';

/** Field name of the bucket that holds `seconds`: `rt_le_<upper bound>`. */
export function histogramField(seconds: number): string {
  if (seconds <= FINE_LIMIT_S) return `rt_le_${Math.max(1, Math.ceil(seconds / FINE_STEP_S)) * FINE_STEP_S}`;
  if (seconds <= COARSE_LIMIT_S) return `rt_le_${Math.ceil(seconds / COARSE_STEP_S) * COARSE_STEP_S}`;
  return OVERFLOW_FIELD;
}

export function isHistogramField(field: string): boolean {
  return field.startsWith('rt_le_');
}

/**
 * Nearest-rank percentile from bucket counts: the upper bound of the bucket that holds
 * the ⌈q·n⌉-th smallest value, i.e. "q of responses were within this many seconds".
 * Values in the open bucket are reported as its lower bound. Null when empty.
 */
export function percentileFromFields(fields: Readonly<Record<string, number>>, q: number): number | null {
  let total = 0;
  for (const bound of HISTOGRAM_BOUNDS) total += fields[`rt_le_${bound}`] ?? 0;
  total += fields[OVERFLOW_FIELD] ?? 0;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total - 1e-9));
  let seen = 0;
  for (const bound of HISTOGRAM_BOUNDS) {
    seen += fields[`rt_le_${bound}`] ?? 0;
    if (seen >= rank) return bound;
  }
  return COARSE_LIMIT_S;
}

/** The same percentile computed from raw seconds (for simulators' truth and tests). */
export function percentileOfSeconds(values: readonly number[], q: number): number | null {
  const fields: Record<string, number> = {};
  for (const v of values) {
    const f = histogramField(v);
    fields[f] = (fields[f] ?? 0) + 1;
  }
  return percentileFromFields(fields, q);
}
