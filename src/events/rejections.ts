/**
 * The kinds of refusal an event can meet after it decoded, and how each reason starts —
 * the one place that writes them (the engine, the pipeline) and reads them (`huitian
 * replay`'s summary). A reason that is none of these is the decoder's: the record is invalid.
 */
export type RejectionKind = 'invalid' | 'late' | 'future' | 'conflict';

/** An event older than the watermark. */
export const LATE_REASON = 'late';
/** An event stamped too far ahead (HUITIAN_MAX_FUTURE_S). */
export const FUTURE_REASON_PREFIX = 'time: more than ';
/** An event that contradicts what is known (a reused incident id). */
export const CONFLICT_REASON_PREFIX = 'conflict: ';

export function rejectionKindOf(reason: string): RejectionKind {
  if (reason === LATE_REASON) return 'late';
  if (reason.startsWith(CONFLICT_REASON_PREFIX)) return 'conflict';
  // The decoder's own time reasons say "must be …" or "is required", never "more than".
  if (reason.startsWith(FUTURE_REASON_PREFIX)) return 'future';
  return 'invalid';
}
