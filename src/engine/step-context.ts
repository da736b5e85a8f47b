/**
 * What a KPI or rule module may touch while the engine processes one step: the partial
 * deltas, the alert book, event-time timers and the configuration. Modules get no clock:
 * `watermark` is the only "now" they see.
 */
import type { AlertBook } from '../alerts/alert-book.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import type { PartialBuffer } from '../kpis/partials.js';
import type { TimerQueue } from '../time/timer-queue.js';
import type { TimeMode } from '../time/watermark.js';

export type FireClockStart = 'dispatched' | 'received';

export interface StepContext {
  readonly partials: PartialBuffer;
  readonly alerts: AlertBook;
  readonly timers: TimerQueue;
  readonly rules: RulesConfig;
  readonly mode: TimeMode;
  readonly fireClockStart: FireClockStart;
  /** Zone of the times written into alert texts (HUITIAN_TIMEZONE). */
  readonly timeZone: string;
  /** The current watermark, epoch ms (-Infinity before the first event). */
  readonly watermark: number;
}

/** An entity with no reading for this long leaves the gauges and the engine's memory. */
export const STALE_ENTITY_MS = 24 * 3600_000;
