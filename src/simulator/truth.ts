/**
 * The ground truth of a simulated stream, computed by the simulator itself from its
 * own events — never by running the engine, whose results it exists to check.
 *
 * Every output line is observed in output order (after fault injection). Malformed
 * lines are counted as rejected; each valid line goes through `ServiceModel` (duplicate?
 * late?), and only accepted events feed the incident and gauge truths. So the truth is
 * what the service should report for this stream, faults included: a late reading is
 * missing from it exactly as it will be missing from the service's KPIs.
 */
import type { EventType } from '../events/schemas.js';
import type { FaultCounts, OutputLine } from './faults.js';
import { ServiceModel } from './service-model.js';
import { formatBeijing } from './sim-event.js';
import { GaugeTruthBuilder, type GasTruth, type LotTruth, type PointTruth } from './truth-gauges.js';
import { IncidentTruthBuilder, type FireResponseTruth } from './truth-incidents.js';

export interface TruthOptions {
  scenario: string;
  start: string;
  end: string;
  seed: number;
  rateScale: number;
  faults: number;
}

export interface Truth {
  generator: 'huitian simulate';
  options: TruthOptions;
  stream: {
    lines: number;
    validLines: number;
    malformedLines: number;
    validByType: Partial<Record<EventType, number>>;
    acceptedByType: Partial<Record<EventType, number>>;
    firstEventTime: string | null;
    lastEventTime: string | null;
    /** Newest accepted event time − 60 s: where the service's event time stops. */
    finalWatermark: string | null;
  };
  /** What the service should count: accepted, duplicates, late (valid lines) and rejected (malformed). */
  service: { accepted: number; duplicates: number; late: number; rejected: number };
  faults: FaultCounts;
  fireResponse: FireResponseTruth;
  waterlogging: {
    points: PointTruth[];
    /** Points whose readings reach each level (yellow ≥ 15, orange ≥ 27, red ≥ 40 cm). */
    reached: { yellow: number; orange: number; red: number };
  };
  parking: { lotsThatAlert: string[]; lots: LotTruth[] };
  gas: { lines: GasTruth[]; peakLelPct: number | null; linesReachingRed: string[] };
  utilityAlarms: { raised: number; cleared: number };
}

export class TruthBuilder {
  private readonly service = new ServiceModel();
  private readonly incidents = new IncidentTruthBuilder();
  private readonly gauges = new GaugeTruthBuilder();
  private lines = 0;
  private valid = 0;
  private malformed = 0;
  private first = Number.POSITIVE_INFINITY;
  private readonly validByType = new Map<EventType, number>();
  private readonly acceptedByType = new Map<EventType, number>();

  observe(out: OutputLine): void {
    this.lines++;
    const e = out.event;
    if (e === null) {
      this.malformed++;
      return;
    }
    this.valid++;
    this.validByType.set(e.type, (this.validByType.get(e.type) ?? 0) + 1);
    if (this.service.classify(e.source, e.id, e.time, out.repeated) !== 'accepted') return;
    this.acceptedByType.set(e.type, (this.acceptedByType.get(e.type) ?? 0) + 1);
    if (e.time < this.first) this.first = e.time;
    switch (e.type) {
      case 'huitian.dispatch.received':
      case 'huitian.dispatch.dispatched':
      case 'huitian.dispatch.arrived':
      case 'huitian.dispatch.closed':
        this.incidents.add(e);
        break;
      default:
        this.gauges.add(e, this.service.watermark);
    }
  }

  finish(options: TruthOptions, faults: FaultCounts): Truth {
    const newest = this.service.newestTime;
    const any = Number.isFinite(newest);
    const finalWatermark = any ? this.service.watermark : Number.NEGATIVE_INFINITY;
    const fireResponse = this.incidents.finish(finalWatermark);
    const { points, lots, gas } = this.gauges.finish(finalWatermark);
    const reached = { yellow: 0, orange: 0, red: 0 };
    for (const p of points) {
      if (p.severity === 'red') reached.red++;
      if (p.severity === 'red' || p.severity === 'orange') reached.orange++;
      if (p.severity !== null) reached.yellow++;
    }
    const byType = (m: Map<EventType, number>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      generator: 'huitian simulate',
      options,
      stream: {
        lines: this.lines,
        validLines: this.valid,
        malformedLines: this.malformed,
        validByType: byType(this.validByType),
        acceptedByType: byType(this.acceptedByType),
        firstEventTime: any ? formatBeijing(this.first) : null,
        lastEventTime: any ? formatBeijing(newest) : null,
        finalWatermark: any ? formatBeijing(finalWatermark) : null,
      },
      service: { ...this.service.counts, rejected: this.malformed },
      faults,
      fireResponse,
      waterlogging: { points, reached },
      parking: { lotsThatAlert: lots.filter((l) => l.alerts.length > 0).map((l) => l.lotId), lots },
      gas: {
        lines: gas,
        peakLelPct: gas.length === 0 ? null : Math.max(...gas.map((g) => g.peakLelPct)),
        linesReachingRed: gas.filter((g) => g.severity === 'red').map((g) => g.lineId),
      },
      utilityAlarms: { ...this.gauges.alarms },
    };
  }
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(Math.round(x * 1000) / 10).toFixed(1)} %`;
}

/** A short human summary of the truth (what the CLI prints to stderr). */
export function summariseTruth(t: Truth): string {
  const o = t.options;
  const f = t.fireResponse;
  const lines: string[] = [
    `huitian simulate: ${o.scenario}, ${o.start} → ${o.end}, seed ${o.seed}, rate scale ${o.rateScale}, faults ${o.faults}`,
    `  ${t.stream.lines} lines: the service should accept ${t.service.accepted}, ignore ${t.service.duplicates} duplicates, reject ${t.service.late} late and ${t.service.rejected} malformed`,
  ];
  if (o.faults > 0) {
    const k = t.faults.malformedByKind;
    lines.push(
      `  injected: ${t.faults.duplicates} duplicates, ${t.faults.outOfOrder} out of order (≤ 45 s), ${t.faults.late} late (> 120 s), ${t.faults.malformed} malformed (${k.bad_json} bad JSON, ${k.missing_field} missing field, ${k.invalid_value} invalid value)`,
    );
  }
  if (f.incidents.length > 0 || f.outOfScopeIncidents > 0) {
    lines.push(
      `  fire/rescue: ${f.overall.covered} covered / ${f.overall.covered + f.overall.missed} decided → 5-min coverage ${percent(f.overall.value)}; p90 response ${f.responseTimeP90Seconds ?? 'n/a'} s; ${f.overall.excluded} excluded, ${f.overall.undecided} undecided at the end, ${f.overall.notDispatched} never dispatched; ${f.outOfScopeIncidents} other calls`,
    );
  }
  const points = t.waterlogging.points;
  if (points.length > 0) {
    const deepest = points.reduce((a, b) => (b.peakDepthCm > a.peakDepthCm ? b : a));
    const r = t.waterlogging.reached;
    lines.push(`  waterlogging: ${points.length} points, deepest ${deepest.peakDepthCm} cm at ${deepest.pointId} ${deepest.name}; ${r.red} reach ≥ 40 cm, ${r.orange} ≥ 27 cm, ${r.yellow} ≥ 15 cm`);
  }
  if (t.parking.lots.length > 0) {
    const names = t.parking.lots.filter((l) => l.alerts.length > 0).map((l) => l.name);
    const shown = names.slice(0, 6).join('、') + (names.length > 6 ? ` … (+${names.length - 6})` : '');
    lines.push(`  parking: ${names.length} of ${t.parking.lots.length} lots full (≥ 95 %) for 5 min${names.length > 0 ? `: ${shown}` : ''}`);
  }
  if (t.gas.lines.length > 0) {
    const top = t.gas.lines.reduce((a, b) => (b.peakLelPct > a.peakLelPct ? b : a));
    lines.push(`  gas: peak ${top.peakLelPct} %LEL on ${top.lineId} (${top.severity ?? 'no alert'}); ${t.utilityAlarms.raised} operator alarms raised, ${t.utilityAlarms.cleared} cleared`);
  }
  return lines.join('\n') + '\n';
}
