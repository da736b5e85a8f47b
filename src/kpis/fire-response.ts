/**
 * 5-minute fire response coverage (消防救援 5 分钟响应时间覆盖率, target ≥ 80 %) and the
 * 90th-percentile response time, from the dispatch event stream.
 *
 * Scope: incidents of category `fire` or `rescue`, attributed to the minute of their
 * `received` time, grouped by district and by the station of the first dispatch.
 *
 * Clock start: the first `dispatched` event (the dispatch order — 建标152 asks a company
 * to reach the edge of its district within 5 minutes of the order), or `received` when
 * configured so (the caller's wait). A unit that arrives with no dispatch recorded before
 * it starts the clock at `received`.
 *
 * Decision, with S the clock start, A the first arrival over all units, C the close and
 * L = 300 s:
 *   covered  — A ≤ S + L (and A no later than C);
 *   excluded — closed before any arrival and no later than S + L (cancelled, false alarm);
 *   missed   — otherwise, i.e. nothing arrived by S + L.
 * Each is decided only once the watermark has passed min(A, C, S + L): from then on no
 * event that could change the outcome can still arrive, which is why shuffling arrivals
 * within the allowed lateness never changes the KPI. Exactly 300 s is covered.
 *
 * Incidents never dispatched stay pending; 24 h after their first event they are evicted
 * and counted in the `unresolved` field, never dropped silently.
 *
 * Partial family `fire_response`, tags {district, station}, fields: covered, missed,
 * unresolved, rt_count, rt_sum (seconds), rt_le_<s> (histogram, see histogram.ts).
 * The response time of a missed incident is added once its first arrival is final.
 */
import { clearDispatchOverdue, raiseDispatchOverdue } from '../alerts/dispatch-overdue.js';
import type { KpiBreachRule } from '../alerts/kpi-breach.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import { CONFLICT_REASON_PREFIX } from '../events/rejections.js';
import type { EventOf, IncidentCategory } from '../events/schemas.js';
import type { FireClockStart, StepContext } from '../engine/step-context.js';
import type { Timer } from '../time/timer-queue.js';
import { formatInZone } from '../time/time-zone.js';
import { histogramField, percentileFromFields } from './histogram.js';
import type { PercentileKpi, RatioKpi } from './kpi-definition.js';
import { bucketOf, UNKNOWN, type Fields } from './partials.js';

export const FIRE_RESPONSE_FAMILY = 'fire_response';
export const COVERAGE_LIMIT_S = 300;
const PENDING_TTL_MS = 24 * 3600_000;
const IN_SCOPE: ReadonlySet<IncidentCategory> = new Set(['fire', 'rescue']);

const DECIDE = 'incident-decide';
const OVERDUE = 'incident-overdue';
const EVICT = 'incident-evict';
const FORGET = 'incident-forget';

/** The plan's coverage target: this KPI's, and the kpi_breach rule's unless `rules.kpiBreach.target` sets another. */
const COVERAGE_TARGET = 0.8;

// `satisfies`: the target stays a number here, for the kpi_breach rule that reads it.
export const fireResponseCoverage = {
  name: 'fire_response_coverage_5min',
  title: '消防救援 5 分钟响应时间覆盖率',
  titleEn: 'Fire and rescue 5-minute response coverage',
  unit: 'ratio',
  target: COVERAGE_TARGET,
  targetDirection: 'atLeast',
  targetBasis: '回天行动计划（2026—2030 年）：消防救援 5 分钟响应时间覆盖率不低于 80%；与 kpi_breach 规则的目标一致。',
  targetBasisEn: "The Huitian action plan (2026–2030): 5-minute fire and rescue response coverage of at least 80 %; the kpi_breach rule's target.",
  targetOf: (rules: RulesConfig) => rules.kpiBreach.target ?? COVERAGE_TARGET,
  kind: 'ratio',
  family: FIRE_RESPONSE_FAMILY,
  groupTags: ['district', 'station'],
  numerator: 'covered',
  denominator: ['covered', 'missed'],
  description:
    '火灾、抢险救援警情中，首支力量在响应计时起点后 300 秒内到场的比例；按接警时间所在分钟归属，未派警及到场前撤销的警情不计入。',
  descriptionEn:
    'Share of fire and rescue incidents whose first unit arrived within 300 s of the clock start; attributed to the minute the call was received; incidents closed before any arrival and within 300 s are left out.',
} satisfies RatioKpi;

export const fireResponseTimeP90: PercentileKpi = {
  name: 'fire_response_time_p90',
  title: '消防救援响应时间（90 百分位）',
  titleEn: 'Fire and rescue response time, 90th percentile',
  unit: 's',
  target: COVERAGE_LIMIT_S,
  targetDirection: 'atMost',
  targetBasis: '建标152：消防站接到出动指令后 5 分钟内到达辖区边缘；按 NFPA 1710 的口径以 90 百分位考核。',
  targetBasisEn: '建标152: a fire company reaches the edge of its district within 5 minutes of the dispatch order; judged at the 90th percentile as NFPA 1710 does.',
  kind: 'percentile',
  quantile: 0.9,
  family: FIRE_RESPONSE_FAMILY,
  groupTags: ['district', 'station'],
  description: '计时起点至首支力量到场的秒数的 90 百分位（NFPA 1710 的统计口径），5 秒分辨率直方图，仅计有到场记录的警情。',
  descriptionEn:
    'Seconds from the clock start to the first arrival at the 90th percentile (as NFPA 1710 reports), from a 5-second-resolution histogram; incidents with an arrival only.',
};

export function coverageValue(fields: Readonly<Fields>): number | null {
  const decided = (fields.covered ?? 0) + (fields.missed ?? 0);
  return decided === 0 ? null : (fields.covered ?? 0) / decided;
}

export function responseTimeP90(fields: Readonly<Fields>): number | null {
  return percentileFromFields(fields, 0.9);
}

type Decision = 'covered' | 'missed' | 'excluded';

interface Incident {
  received: number | null;
  /** Event id of the `received` that counts. */
  receivedId?: string;
  category: IncidentCategory | null;
  district: string | null;
  receivedStation: string | null;
  /**
   * Dispatch orders as [time, station, unitId], in `dispatchOrder`: the first is the
   * earliest, and of orders at one instant the one naming a station, then the smallest unit.
   */
  dispatches: Array<[time: number, station: string | null, unitId?: string]>;
  firstArrival: number | null;
  /** Unit of the first arrival: of arrivals at one instant, the smallest unit id counts. */
  firstArrivalUnit?: string;
  /** Who ended the wait, for the overdue alert's history: `event:<id>` and what happened. */
  firstArrivalBy: [by: string, note: string] | null;
  closed: number | null;
  closedBy: [by: string, note: string] | null;
  /** Earliest event time of the incident (not the first to arrive): eviction counts from it. */
  firstSeen: number;
  decision: Decision | null;
  clockStart: number | null;
  station: string | null;
  responseRecorded: boolean;
  scheduledDue: number | null;
  /** The KPI is decided and, for a miss, its response time settled or never coming. */
  kpiDone?: boolean;
  /** Whether the overdue alert (deadline `rules.dispatch.responseSeconds`) was decided. */
  overdueDecided?: boolean;
  overdueScheduled?: number | null;
}

/** What a `received` says of its incident: compared when the incident id comes again. */
type ReceivedFacts = [time: number, category: IncidentCategory, district: string, station: string | null];

export interface FireResponseSnapshot {
  incidents: Array<[string, Incident]>;
  finished: string[];
  /** The counted `received` of finished incidents, to refuse a reuse of their id (absent in older snapshots). */
  finishedReceived?: Array<[string, ReceivedFacts]>;
}

type DispatchEvent =
  | EventOf<'huitian.dispatch.received'>
  | EventOf<'huitian.dispatch.dispatched'>
  | EventOf<'huitian.dispatch.arrived'>
  | EventOf<'huitian.dispatch.closed'>;

export interface FireResponseStats {
  pending: number;
  evictedUnresolved: number;
}

/**
 * The order of an incident's dispatch orders, decided by the data and never by arrival
 * (DESIGN §6): earliest first; of orders at one instant, one that names a station before
 * one that does not, then the smallest unit id, then the station. "The station of the
 * first dispatch" is the station of the first order in this order.
 */
function dispatchOrder(a: Incident['dispatches'][number], b: Incident['dispatches'][number]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if ((a[1] === null) !== (b[1] === null)) return a[1] === null ? 1 : -1;
  const ua = a[2] ?? '';
  const ub = b[2] ?? '';
  if (ua !== ub) return ua < ub ? -1 : 1;
  const sa = a[1] ?? '';
  const sb = b[1] ?? '';
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** Of two events at one instant, whether (unit, by) comes first: the smallest unit id, then event id. */
function earlierIdentity(unit: string, by: string, otherUnit: string, otherBy: string): boolean {
  return unit !== otherUnit ? unit < otherUnit : by < otherBy;
}

export class FireResponseTracker {
  private readonly incidents = new Map<string, Incident>();
  /**
   * Incidents already decided and done with; stragglers about them are ignored for 24 h.
   * With the facts of their counted `received`, when they had one.
   */
  private readonly finished = new Map<string, ReceivedFacts | null>();
  evictedUnresolved = 0;

  constructor(private readonly breach: KpiBreachRule) {}

  get pendingCount(): number {
    return this.incidents.size;
  }

  /**
   * Why a `received` contradicts the one already counted for its incident, or null. An
   * incident id is the dispatch system's name for one incident: a second call under the same
   * id with another time, category, district or station is another incident (or a system
   * reusing ids), which folded in silently once replaced the first or vanished into it. It
   * is refused as `conflict` instead, naming what differs; the first to arrive stands. An
   * identical repeat under a new event id changes nothing and is accepted, as before.
   */
  conflictOf(e: EventOf<'huitian.dispatch.received'>, zone: string): string | null {
    const incidentId = e.data.incidentId;
    const inc = this.incidents.get(incidentId);
    let held: ReceivedFacts | null | undefined;
    if (inc !== undefined) held = inc.received === null ? null : [inc.received, inc.category!, inc.district!, inc.receivedStation];
    else held = this.finished.get(incidentId);
    if (held === null || held === undefined) return null;
    const [time, category, district, station] = held;
    const differs: string[] = [];
    if (e.time !== time) differs.push(`time ${formatInZone(e.time, zone)} (counted: ${formatInZone(time, zone)})`);
    if (e.data.category !== category) differs.push(`category ${e.data.category} (counted: ${category})`);
    if (e.data.district !== district) differs.push(`district ${JSON.stringify(e.data.district)} (counted: ${JSON.stringify(district)})`);
    const newStation = e.data.station ?? null;
    if (newStation !== station) differs.push(`station ${JSON.stringify(newStation)} (counted: ${JSON.stringify(station)})`);
    if (differs.length === 0) return null;
    return `${CONFLICT_REASON_PREFIX}incident ${JSON.stringify(incidentId)} was already received; this one differs in ${differs.join(', ')}`;
  }

  onEvent(ctx: StepContext, e: DispatchEvent): void {
    const incidentId = e.data.incidentId;
    if (this.finished.has(incidentId)) return;
    let inc = this.incidents.get(incidentId);
    if (inc === undefined) {
      inc = {
        received: null,
        category: null,
        district: null,
        receivedStation: null,
        dispatches: [],
        firstArrival: null,
        firstArrivalBy: null,
        closed: null,
        closedBy: null,
        firstSeen: e.time,
        decision: null,
        clockStart: null,
        station: null,
        responseRecorded: false,
        scheduledDue: null,
        kpiDone: false,
        overdueDecided: false,
        overdueScheduled: null,
      };
      this.incidents.set(incidentId, inc);
      ctx.timers.schedule(e.time + PENDING_TTL_MS, EVICT, incidentId);
    } else if (e.time < inc.firstSeen) {
      // Arrival order must not decide when an incident is evicted: the earliest event does.
      inc.firstSeen = e.time;
      ctx.timers.schedule(e.time + PENDING_TTL_MS, EVICT, incidentId);
    }
    switch (e.type) {
      case 'huitian.dispatch.received':
        // Of two calls at one instant, the smaller event id counts (the data decides, not arrival).
        if (inc.received === null || e.time < inc.received || (e.time === inc.received && e.id < (inc.receivedId ?? ''))) {
          inc.received = e.time;
          inc.receivedId = e.id;
          inc.category = e.data.category;
          inc.district = e.data.district;
          inc.receivedStation = e.data.station ?? null;
        }
        if (!IN_SCOPE.has(e.data.category)) {
          this.finish(ctx, incidentId, e.time);
          return;
        }
        break;
      case 'huitian.dispatch.dispatched': {
        const d = inc.dispatches;
        const order: Incident['dispatches'][number] = [e.time, e.data.station ?? null, e.data.unitId];
        let i = d.length;
        while (i > 0 && dispatchOrder(d[i - 1]!, order) > 0) i--;
        d.splice(i, 0, order);
        break;
      }
      case 'huitian.dispatch.arrived':
        if (
          inc.firstArrival === null ||
          e.time < inc.firstArrival ||
          (e.time === inc.firstArrival && earlierIdentity(e.data.unitId, `event:${e.id}`, inc.firstArrivalUnit ?? '', inc.firstArrivalBy?.[0] ?? ''))
        ) {
          inc.firstArrival = e.time;
          inc.firstArrivalUnit = e.data.unitId;
          inc.firstArrivalBy = [`event:${e.id}`, `unit ${e.data.unitId} arrived`];
        }
        // Act on arrival: the operators learn at once that a unit is on scene.
        clearDispatchOverdue(ctx.alerts, incidentId, e.time, `event:${e.id}`, `unit ${e.data.unitId} arrived`);
        break;
      case 'huitian.dispatch.closed':
        if (inc.closed === null || e.time < inc.closed || (e.time === inc.closed && `event:${e.id}` < (inc.closedBy?.[0] ?? ''))) {
          inc.closed = e.time;
          inc.closedBy = [`event:${e.id}`, `incident closed: ${e.data.reason}`];
        }
        clearDispatchOverdue(ctx.alerts, incidentId, e.time, `event:${e.id}`, `incident closed: ${e.data.reason}`);
        break;
    }
    this.reschedule(ctx, incidentId, inc);
  }

  onTimer(ctx: StepContext, timer: Timer): boolean {
    switch (timer.kind) {
      case DECIDE: {
        const inc = this.incidents.get(timer.key);
        if (inc !== undefined && inc.scheduledDue === timer.due) {
          inc.scheduledDue = null;
          this.evaluate(ctx, timer.key, inc);
        }
        return true;
      }
      case OVERDUE: {
        const inc = this.incidents.get(timer.key);
        if (inc !== undefined && inc.overdueScheduled === timer.due) {
          inc.overdueScheduled = null;
          this.decideOverdue(ctx, timer.key, inc);
        }
        return true;
      }
      case EVICT: {
        const inc = this.incidents.get(timer.key);
        if (inc !== undefined && timer.due === inc.firstSeen + PENDING_TTL_MS) this.evict(ctx, timer.key, inc, timer.due);
        return true;
      }
      case FORGET:
        this.finished.delete(timer.key);
        return true;
      default:
        return false;
    }
  }

  /** The clock start as far as the events seen so far tell, or null (not dispatched yet). */
  private clockStartOf(ctx: StepContext, inc: Incident): { at: number; kind: FireClockStart | 'received-no-dispatch'; station: string | null } | null {
    if (inc.received === null) return null;
    if (ctx.fireClockStart === 'received') {
      return { at: inc.received, kind: 'received', station: inc.receivedStation };
    }
    const first = inc.dispatches[0];
    if (first !== undefined && (inc.firstArrival === null || first[0] <= inc.firstArrival)) {
      return { at: first[0], kind: 'dispatched', station: first[1] ?? inc.receivedStation };
    }
    if (inc.firstArrival !== null) return { at: inc.received, kind: 'received-no-dispatch', station: inc.receivedStation };
    return null;
  }

  /** The event time after which the next step for this incident is final, or null. */
  private dueOf(ctx: StepContext, inc: Incident): number | null {
    if (inc.kpiDone) return null;
    if (inc.decision === null) {
      const start = this.clockStartOf(ctx, inc);
      if (start === null) return null;
      const limit = start.at + COVERAGE_LIMIT_S * 1000;
      return Math.min(inc.firstArrival ?? limit, inc.closed ?? limit, limit);
    }
    if (inc.decision === 'missed' && !inc.responseRecorded) {
      const a = inc.firstArrival;
      if (a !== null && (inc.closed === null || a <= inc.closed)) return a;
      // No arrival that can count yet: once the close is final, so is the outcome.
      return inc.closed;
    }
    return null;
  }

  /**
   * When the overdue alert can be decided: as the coverage decision, with the configured
   * response limit instead of the KPI's fixed 300 s.
   */
  private overdueDueOf(ctx: StepContext, inc: Incident): number | null {
    if (inc.overdueDecided) return null;
    const start = this.clockStartOf(ctx, inc);
    if (start === null) return null;
    const limit = start.at + ctx.rules.dispatch.responseSeconds * 1000;
    return Math.min(inc.firstArrival ?? limit, inc.closed ?? limit, limit);
  }

  private reschedule(ctx: StepContext, incidentId: string, inc: Incident): void {
    const due = this.dueOf(ctx, inc);
    if (due !== null && due !== inc.scheduledDue) {
      inc.scheduledDue = due;
      ctx.timers.schedule(due, DECIDE, incidentId);
    }
    const overdue = this.overdueDueOf(ctx, inc);
    if (overdue !== null && overdue !== inc.overdueScheduled) {
      inc.overdueScheduled = overdue;
      ctx.timers.schedule(overdue, OVERDUE, incidentId);
    }
  }

  /**
   * Raises the response-overdue alert if no unit arrived, and the incident was not
   * closed, by clock start + `rules.dispatch.responseSeconds` (300 s by default, the
   * KPI's limit; the KPI's own limit stays 300 s whatever the alert is set to). The alert
   * follows event time, not processing speed: it is open from the deadline until the
   * first arrival or close, even when this engine learns of both at once (a source
   * catching up, a replay), so every run has it alike.
   */
  private decideOverdue(ctx: StepContext, incidentId: string, inc: Incident): void {
    const due = this.overdueDueOf(ctx, inc);
    if (due === null) return;
    if (!(ctx.watermark > due)) {
      this.reschedule(ctx, incidentId, inc);
      return;
    }
    inc.overdueDecided = true;
    const start = this.clockStartOf(ctx, inc)!;
    const limitSeconds = ctx.rules.dispatch.responseSeconds;
    const limit = start.at + limitSeconds * 1000;
    const a = inc.firstArrival;
    const c = inc.closed;
    const reached = a !== null && a <= limit && (c === null || a <= c);
    const closedInTime = c !== null && c <= limit;
    if (!reached && !closedInTime) {
      let station = start.station;
      if (start.kind === 'received') {
        const first = inc.dispatches[0];
        if (first !== undefined && first[0] <= due) station = first[1] ?? inc.receivedStation;
      }
      raiseDispatchOverdue(ctx.alerts, {
        incidentId,
        category: inc.category!,
        district: inc.district ?? UNKNOWN,
        station: station ?? UNKNOWN,
        clockStart: start.at,
        clockStartKind: start.kind,
        limitSeconds,
      }, ctx.timeZone);
      const ended = a !== null && (c === null || a <= c) ? ([a, inc.firstArrivalBy] as const) : c !== null ? ([c, inc.closedBy] as const) : null;
      if (ended !== null && ended[1] !== null) clearDispatchOverdue(ctx.alerts, incidentId, ended[0], ended[1][0], ended[1][1]);
    }
    if (inc.kpiDone) this.finish(ctx, incidentId, due);
  }

  private evaluate(ctx: StepContext, incidentId: string, inc: Incident): void {
    const due = this.dueOf(ctx, inc);
    if (due === null) return;
    if (!(ctx.watermark > due)) {
      this.reschedule(ctx, incidentId, inc);
      return;
    }
    const tags = () => ({ district: inc.district ?? UNKNOWN, station: inc.station ?? UNKNOWN });
    const bucket = bucketOf(inc.received!);
    if (inc.decision === null) {
      const start = this.clockStartOf(ctx, inc)!;
      const limit = start.at + COVERAGE_LIMIT_S * 1000;
      inc.clockStart = start.at;
      inc.station = start.station;
      if (start.kind === 'received') {
        // Received mode decides without waiting for a dispatch. The station is that of the
        // first dispatch up to the decision instant: every such event has been seen, while
        // whether a later one has depends on arrival order.
        const first = inc.dispatches[0];
        if (first !== undefined && first[0] <= due) inc.station = first[1] ?? inc.receivedStation;
      }
      const a = inc.firstArrival;
      const c = inc.closed;
      if (a !== null && a <= limit && (c === null || a <= c)) {
        inc.decision = 'covered';
        const seconds = Math.max(0, (a - start.at) / 1000);
        ctx.partials.add(FIRE_RESPONSE_FAMILY, bucket, tags(), { covered: 1, rt_count: 1, rt_sum: seconds, [histogramField(seconds)]: 1 });
        inc.responseRecorded = true;
        this.breach.record(bucket, 1, 1);
      } else if (c !== null && c <= limit) {
        inc.decision = 'excluded';
      } else {
        inc.decision = 'missed';
        ctx.partials.add(FIRE_RESPONSE_FAMILY, bucket, tags(), { missed: 1 });
        this.breach.record(bucket, 0, 1);
        // The overdue alert is decided apart (decideOverdue): its deadline is configurable,
        // and `rules.dispatch.responseSeconds` was once accepted and silently ignored.
      }
    }
    // A missed incident's response time, once its first arrival is final (before the
    // watermark). Checked right after the decision too: when the watermark jumps past
    // both the limit and the arrival in one step, finishing first would lose it, and
    // whether the watermark jumps depends on arrival order. An arrival after the close
    // does not count, as it does not for coverage.
    const a = inc.firstArrival;
    if (inc.decision === 'missed' && !inc.responseRecorded && a !== null && a < ctx.watermark && (inc.closed === null || a <= inc.closed)) {
      const seconds = Math.max(0, (a - inc.clockStart!) / 1000);
      ctx.partials.add(FIRE_RESPONSE_FAMILY, bucket, tags(), { rt_count: 1, rt_sum: seconds, [histogramField(seconds)]: 1 });
      inc.responseRecorded = true;
    }
    inc.kpiDone = inc.decision !== 'missed' || inc.responseRecorded || (inc.closed !== null && inc.closed < ctx.watermark);
    // The incident is kept until its overdue alert is decided too (a deadline set beyond 300 s).
    if (inc.kpiDone && inc.overdueDecided) this.finish(ctx, incidentId, due);
    else this.reschedule(ctx, incidentId, inc);
  }

  private evict(ctx: StepContext, incidentId: string, inc: Incident, at: number): void {
    // An incident closed without ever being dispatched (a call handled by phone, a false
    // alarm) was resolved: it is left out like any incident never dispatched, not counted
    // as unresolved. Only a close by the eviction time counts, so arrival order cannot matter.
    const closedByThen = inc.closed !== null && inc.closed <= at;
    if (inc.decision === null && !closedByThen) {
      if (inc.category !== null && IN_SCOPE.has(inc.category)) {
        const station = inc.dispatches[0]?.[1] ?? inc.receivedStation ?? UNKNOWN;
        ctx.partials.add(FIRE_RESPONSE_FAMILY, bucketOf(inc.received!), { district: inc.district ?? UNKNOWN, station }, { unresolved: 1 });
      }
      // Without a `received`, dispatch events have nothing to attribute them to; still counted.
      this.evictedUnresolved++;
    }
    this.finish(ctx, incidentId, at);
  }

  /** `at`: the event time that finished the incident. */
  private finish(ctx: StepContext, incidentId: string, at: number): void {
    const inc = this.incidents.get(incidentId);
    this.incidents.delete(incidentId);
    this.finished.set(incidentId, inc?.received == null ? null : [inc.received, inc.category!, inc.district!, inc.receivedStation]);
    // Before the first watermark (the engine's first event) this used max(watermark, 0),
    // i.e. 1970: the "forget" timer fired at once and the incident's later events
    // started a new, never-received incident that was evicted as unresolved.
    ctx.timers.schedule(Math.max(ctx.watermark, at) + PENDING_TTL_MS, FORGET, incidentId);
  }

  snapshot(): FireResponseSnapshot {
    return {
      incidents: [...this.incidents.entries()].map(([k, v]) => [k, structuredClone(v)]),
      finished: [...this.finished.keys()],
      finishedReceived: [...this.finished].filter((e): e is [string, ReceivedFacts] => e[1] !== null),
    };
  }

  restore(s: FireResponseSnapshot & { evictedUnresolved?: number }): void {
    this.incidents.clear();
    this.finished.clear();
    for (const [k, v] of s.incidents) {
      const inc = structuredClone(v);
      // Snapshots from before the overdue alert was decided apart: it was decided with the KPI.
      if (inc.overdueDecided === undefined) {
        inc.overdueDecided = inc.decision !== null;
        inc.overdueScheduled = null;
        inc.kpiDone = false;
      }
      this.incidents.set(k, inc);
    }
    for (const id of s.finished) this.finished.set(id, null);
    for (const [id, facts] of s.finishedReceived ?? []) this.finished.set(id, facts);
  }
}
