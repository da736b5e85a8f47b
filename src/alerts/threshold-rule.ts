/**
 * Threshold with hysteresis, acting on arrival (DESIGN §5): a reading at or above a level
 * opens the alert or escalates it to that level's severity; a reading below `clearBelow`
 * resolves it; readings in between change nothing (no de-escalation while above the
 * clear level). Each entity follows its newest reading by event time, so a straggler
 * never moves an alert back.
 */
import { NewestTimes, type NewestEntry } from './newest-times.js';
import type { RaiseSpec } from './alert-book.js';
import { severityRank, type Severity } from './alert.js';
import type { StepContext } from '../engine/step-context.js';

export interface ThresholdLevel {
  severity: Severity;
  atLeast: number;
}

export type ThresholdText = Pick<RaiseSpec, 'title' | 'titleEn' | 'message' | 'messageEn' | 'district'>;

export class ThresholdRule {
  private readonly newest = new NewestTimes();

  /**
   * @param levels ascending by `atLeast`
   */
  constructor(
    readonly rule: string,
    readonly category: RaiseSpec['category'],
    private readonly levels: () => readonly ThresholdLevel[],
    private readonly clearBelow: () => number,
  ) {}

  /** The severity a value reaches, or undefined below the first level. */
  severityOf(value: number): ThresholdLevel | undefined {
    let reached: ThresholdLevel | undefined;
    for (const level of this.levels()) if (value >= level.atLeast) reached = level;
    return reached;
  }

  onReading(
    ctx: StepContext,
    entityId: string,
    event: { time: number; id: string; source: string },
    value: number,
    text: (level: ThresholdLevel) => ThresholdText,
    location?: { lat: number; lon: number },
  ): void {
    const time = event.time;
    if (!this.newest.advance(entityId, time, event.id, event.source)) return;
    const by = `event:${event.id}`;
    const active = ctx.alerts.active(this.rule, entityId);
    if (active !== undefined && value < this.clearBelow()) {
      ctx.alerts.clear(this.rule, entityId, time, by, value);
      return;
    }
    const level = this.severityOf(value);
    if (active !== undefined && (level === undefined || severityRank(level.severity) <= severityRank(active.severity))) {
      // Not worse: the alert follows the reading and keeps its peak; the texts (five
      // formatted strings) are built only for a new peak, not for every reading of a flood.
      const current = this.levels().find((l) => l.severity === active.severity) ?? level;
      ctx.alerts.observe(this.rule, entityId, value, time, () => {
        const { title, titleEn, message, messageEn } = text(current ?? { severity: active.severity, atLeast: active.threshold ?? value });
        return { title, titleEn, message, messageEn };
      });
      return;
    }
    if (level === undefined) return;
    ctx.alerts.raise({
      rule: this.rule,
      category: this.category,
      entityId,
      severity: level.severity,
      value,
      threshold: level.atLeast,
      at: time,
      by,
      ...(location === undefined ? {} : { location }),
      ...text(level),
    });
  }

  /** Drops entities not heard from since `horizon` (the alert itself stays until cleared). */
  forgetOlderThan(horizon: number): void {
    this.newest.forgetOlderThan(horizon);
  }

  snapshot(): NewestEntry[] {
    return this.newest.snapshot();
  }

  restore(entries: NewestEntry[]): void {
    this.newest.restore(entries);
  }
}
