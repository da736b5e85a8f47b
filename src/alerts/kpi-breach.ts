/**
 * KPI breach: 5-minute fire response coverage over the trailing 24 h below its target
 * (the KPI catalogue's, 0.80: the district plan's 消防救援 5 分钟响应时间覆盖率 ≥ 80 %;
 * `rules.kpiBreach.target` may set another), once at least 10
 * incidents were decided in the window. Evaluated as the watermark passes each minute,
 * over the same 1-minute buckets the KPI query reads.
 */
import type { StepContext } from '../engine/step-context.js';
import { fireResponseCoverage } from '../kpis/fire-response.js';

export const KPI_BREACH_RULE = 'kpi_breach';
export const COVERAGE_ENTITY = 'fire_response_coverage_5min';

const MINUTE = 60_000;

export class KpiBreachRule {
  /** Per received-minute bucket: [covered, decided]. */
  private readonly buckets = new Map<number, [number, number]>();
  /** Buckets changed since the last `takeChanges` (cluster tasks only). */
  private readonly changed = new Set<number>();
  /** Set by an engine without global rules: only then are changes collected. */
  tracking = false;

  record(bucket: number, covered: number, decided: number): void {
    if (this.tracking) this.changed.add(bucket);
    const counts = this.buckets.get(bucket);
    if (counts === undefined) this.buckets.set(bucket, [covered, decided]);
    else {
      counts[0] += covered;
      counts[1] += decided;
    }
  }

  /** Called when the watermark reaches `boundary` (a minute start). */
  evaluate(ctx: StepContext, boundary: number): void {
    const { windowHours, minDecided } = ctx.rules.kpiBreach;
    const target = ctx.rules.kpiBreach.target ?? fireResponseCoverage.target;
    const windowStart = boundary - windowHours * 3600_000;
    let covered = 0;
    let decided = 0;
    for (const [bucket, counts] of this.buckets) {
      if (bucket < windowStart - MINUTE) {
        this.buckets.delete(bucket);
        continue;
      }
      if (bucket >= windowStart && bucket < boundary) {
        covered += counts[0];
        decided += counts[1];
      }
    }
    const active = ctx.alerts.active(KPI_BREACH_RULE, COVERAGE_ENTITY);
    const coverage = decided === 0 ? null : covered / decided;
    if (active !== undefined) {
      if (coverage === null || coverage >= target) {
        ctx.alerts.clear(KPI_BREACH_RULE, COVERAGE_ENTITY, boundary, 'watermark', coverage);
      }
      return;
    }
    if (coverage === null || decided < minDecided || coverage >= target) return;
    const pct = (coverage * 100).toFixed(1);
    ctx.alerts.raise({
      rule: KPI_BREACH_RULE,
      category: 'kpi',
      entityId: COVERAGE_ENTITY,
      severity: 'yellow',
      district: '全区',
      value: coverage,
      threshold: target,
      at: boundary,
      by: 'watermark',
      title: `指标未达标：近 ${windowHours} 小时消防 5 分钟响应覆盖率 ${pct}%`,
      titleEn: `KPI below target: 5-minute fire response coverage ${pct}% over the last ${windowHours} h`,
      message: `近 ${windowHours} 小时已判定 ${decided} 起火灾与抢险救援警情，${covered} 起在 5 分钟内到场，覆盖率 ${pct}%，低于目标 ${target * 100}%。`,
      messageEn: `${covered} of ${decided} fire and rescue incidents decided in the last ${windowHours} h were reached within 5 minutes (${pct}%), below the ${target * 100}% target.`,
    });
  }

  /**
   * A cluster task's side of the rule: the absolute counts of the buckets changed since the
   * last call, oldest first, and buckets that left the window forgotten (as `evaluate` does).
   */
  takeChanges(boundary: number, windowHours: number): Array<[number, number, number]> {
    const windowStart = boundary - windowHours * 3600_000;
    const out: Array<[number, number, number]> = [];
    for (const bucket of [...this.changed].sort((a, b) => a - b)) {
      const counts = this.buckets.get(bucket);
      if (counts !== undefined) out.push([bucket, counts[0], counts[1]]);
    }
    this.changed.clear();
    for (const bucket of this.buckets.keys()) if (bucket < windowStart - MINUTE) this.buckets.delete(bucket);
    return out;
  }

  /** The changed-bucket set is engine state too: a snapshot between two boundaries keeps it. */
  snapshotChanged(): number[] {
    return [...this.changed];
  }

  restoreChanged(buckets: readonly number[]): void {
    this.changed.clear();
    for (const b of buckets) this.changed.add(b);
  }

  snapshot(): Array<[number, [number, number]]> {
    return [...this.buckets.entries()].map(([k, v]) => [k, [v[0], v[1]]]);
  }

  restore(entries: Array<[number, [number, number]]>): void {
    this.buckets.clear();
    for (const [k, v] of entries) this.buckets.set(k, [v[0], v[1]]);
  }
}
