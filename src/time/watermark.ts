/**
 * Event-time watermark (DESIGN §3).
 *
 * Watermark = the smallest, over input channels that are not idle, of the largest event
 * time seen on that channel, minus the allowed lateness. Per-channel tracking is what
 * lets a replay through several Kafka partitions work: partitions are consumed in
 * interleaved batches, so one partition's events may be minutes ahead of another's, and
 * a single global maximum would declare the slower partition's events late (Flink's
 * per-split watermarks solve the same problem the same way).
 *
 * A channel is idle when its adapter says it has caught up (a Kafka partition at its
 * high-water mark, an HTTP request answered) or, in live mode only, when nothing arrived
 * on it for `idleTimeoutMs` of wall time. When every channel is idle:
 * - replay mode: the watermark is the overall maximum minus the lateness, and stops there;
 * - live mode: it also advances with the wall clock for as long as the input is quiet, so
 *   an absence ("no arrival within 300 s") is noticed although no further event comes.
 *
 * The watermark never goes back. `now` is always passed in; this module reads no clock.
 */

export type TimeMode = 'live' | 'replay';

export interface WatermarkConfig {
  latenessMs: number;
  mode: TimeMode;
  /** Live mode: a channel with no arrival for this long stops holding time back. */
  idleTimeoutMs: number;
}

interface ChannelState {
  maxEventTime: number;
  lastArrival: number;
  idle: boolean;
}

export interface WatermarkSnapshot {
  watermark: number | null;
  maxEventTime: number | null;
  lastArrival: number | null;
  channels: Array<[string, Omit<ChannelState, 'maxEventTime'> & { maxEventTime: number | null }]>;
}

const NONE = Number.NEGATIVE_INFINITY;

export class WatermarkTracker {
  private readonly channels = new Map<string, ChannelState>();
  private current = NONE;
  private maxEventTime = NONE;
  private lastArrival = NONE;

  constructor(private readonly config: WatermarkConfig) {}

  /** The current watermark (epoch ms), or -Infinity before the first event. */
  get watermark(): number {
    return this.current;
  }

  /** The largest event time seen on any channel. */
  get maxSeen(): number {
    return this.maxEventTime;
  }

  /** An event older than the watermark is late: its minute may already be final. */
  isLate(eventTime: number): boolean {
    return eventTime < this.current;
  }

  /** Records an accepted event's time on its channel. Call `advance` afterwards. */
  observe(channel: string, eventTime: number, now: number): void {
    let state = this.channels.get(channel);
    if (state === undefined) {
      state = { maxEventTime: eventTime, lastArrival: now, idle: false };
      this.channels.set(channel, state);
    } else {
      if (eventTime > state.maxEventTime) state.maxEventTime = eventTime;
      state.lastArrival = now;
      state.idle = false;
    }
    if (eventTime > this.maxEventTime) this.maxEventTime = eventTime;
    if (now > this.lastArrival) this.lastArrival = now;
  }

  /**
   * Declares a channel before its first event (a Kafka partition just assigned). Until
   * it delivers or is marked idle it holds the watermark where it is: its backlog may
   * hold events older than anything seen on the other channels.
   */
  register(channel: string, now: number): void {
    if (!this.channels.has(channel)) this.channels.set(channel, { maxEventTime: NONE, lastArrival: now, idle: false });
  }

  /** An adapter tells that a channel has delivered everything it has for now. */
  markIdle(channel: string): void {
    const state = this.channels.get(channel);
    if (state !== undefined) state.idle = true;
  }

  /**
   * An adapter takes back an idle mark: the channel may have new events coming (its
   * source is delivering again), so it holds time back once more. The watermark itself
   * never moves back.
   */
  activate(channel: string, now: number): void {
    const state = this.channels.get(channel);
    if (state !== undefined && state.idle) {
      state.idle = false;
      state.lastArrival = now;
    }
  }

  /** Forgets a channel (a revoked Kafka partition) so it no longer holds time back. */
  removeChannel(channel: string): void {
    this.channels.delete(channel);
  }

  /** Recomputes the watermark for wall time `now`; returns it. Never moves it back. */
  advance(now: number): number {
    if (this.channels.size === 0 || this.maxEventTime === NONE) return this.current;
    const { latenessMs, mode, idleTimeoutMs } = this.config;
    let minActive = Number.POSITIVE_INFINITY;
    for (const state of this.channels.values()) {
      const idle = state.idle || (mode === 'live' && now - state.lastArrival >= idleTimeoutMs);
      if (!idle && state.maxEventTime < minActive) minActive = state.maxEventTime;
    }
    let candidate: number;
    if (minActive !== Number.POSITIVE_INFINITY) {
      candidate = minActive - latenessMs;
    } else {
      candidate = this.maxEventTime - latenessMs;
      // Live and quiet: event time is assumed to pass as wall time does.
      if (mode === 'live' && now > this.lastArrival) candidate += now - this.lastArrival;
    }
    if (candidate > this.current) this.current = candidate;
    return this.current;
  }

  /**
   * The event-time "now" of the stream: the newest event time, extrapolated by the
   * wall time since the last arrival in live mode. Operator actions (acknowledge,
   * resolve) are stamped with it so that their durations stay in event time.
   */
  clock(now: number): number {
    if (this.maxEventTime === NONE) return this.config.mode === 'live' ? now : 0;
    if (this.config.mode === 'live' && now > this.lastArrival) return this.maxEventTime + (now - this.lastArrival);
    return this.maxEventTime;
  }

  snapshot(): WatermarkSnapshot {
    return {
      watermark: finiteOrNull(this.current),
      maxEventTime: finiteOrNull(this.maxEventTime),
      lastArrival: finiteOrNull(this.lastArrival),
      // A registered channel with no event yet has -Infinity, which JSON cannot carry.
      channels: [...this.channels.entries()].map(([k, v]) => [k, { ...v, maxEventTime: finiteOrNull(v.maxEventTime) }]),
    };
  }

  restore(s: WatermarkSnapshot): void {
    this.current = s.watermark ?? NONE;
    this.maxEventTime = s.maxEventTime ?? NONE;
    this.lastArrival = s.lastArrival ?? NONE;
    this.channels.clear();
    for (const [k, v] of s.channels) this.channels.set(k, { ...v, maxEventTime: v.maxEventTime ?? NONE });
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}
