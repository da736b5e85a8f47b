/**
 * Property-test budgets, scaled by HUITIAN_PROPERTY_FACTOR (default 1) so that one run
 * can search far harder than CI does (`npm run test:properties -- 50`). Each suite keeps
 * its usual number of runs; the factor multiplies runs, the shrink time limit and the
 * test timeout together, so a 50× run is 50× the search, not a timeout.
 */
import fc from 'fast-check';

const raw = process.env.HUITIAN_PROPERTY_FACTOR ?? '1';
export const PROPERTY_FACTOR = Number(raw);
if (!Number.isInteger(PROPERTY_FACTOR) || PROPERTY_FACTOR < 1) {
  throw new Error(`HUITIAN_PROPERTY_FACTOR must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
}

/** fast-check's default (100) for suites that set no number of runs. */
fc.configureGlobal({ numRuns: 100 * PROPERTY_FACTOR });

/** A suite's usual number of runs, times the factor. */
export function runs(usual: number): number {
  return usual * PROPERTY_FACTOR;
}

/** A time budget (test timeout, shrink limit) in ms, times the factor. */
export function budget(ms: number): number {
  return ms * PROPERTY_FACTOR;
}
