/**
 * Silences (maintenance windows), as Alertmanager has them: matchers and an event-time
 * window. A matching alert still opens, escalates and is stored, with `silencedBy`; it is
 * neither notified nor escalated by policy until the silence ends (src/notifications/stage.ts).
 */
import type { Alert } from '../alerts/alert.js';

export interface SilenceMatchers {
  entityId?: string;
  district?: string;
  rule?: string;
  category?: string;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  /** Event time, epoch ms: [startsAt, endsAt). */
  startsAt: number;
  endsAt: number;
  comment: string;
  /** Who created it: the caller's token (its name, or role and fingerprint). */
  createdBy: string;
  /** Event-time clock of the stream when it was created. */
  createdAt: number;
}

export const SILENCE_MATCHER_KEYS = ['entityId', 'district', 'rule', 'category'] as const;

/** Every given matcher equals the alert's field; a silence has at least one. */
export function silenceMatches(s: Pick<Silence, 'matchers'>, a: Pick<Alert, 'entityId' | 'district' | 'rule' | 'category'>): boolean {
  let any = false;
  for (const k of SILENCE_MATCHER_KEYS) {
    const want = s.matchers[k];
    if (want === undefined) continue;
    any = true;
    if (a[k] !== want) return false;
  }
  return any;
}

export type SilenceState = 'pending' | 'active' | 'expired';

/** State at event time `at` (the watermark). */
export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, at: number): SilenceState {
  if (at >= s.endsAt) return 'expired';
  return at >= s.startsAt ? 'active' : 'pending';
}
