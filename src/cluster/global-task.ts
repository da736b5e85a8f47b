/**
 * The global stage's task (docs/cluster.md §5): the one partition of `G.global`, which
 * carries the dispatch tasks' minute reports and the operators' commands for global
 * alerts. Like `Task`, `process` applies a batch of records in offset order and does no
 * I/O, so a restored owner re-reading from its checkpoint computes what the first read did.
 */
import type { AlertChange } from '../alerts/alert.js';
import type { RulesConfig } from '../alerts/rules-config.js';
import { GlobalStage, type TaskReport } from '../engine/global-stage.js';
import type { PartialDelta } from '../kpis/partials.js';
import { BUCKET_MS } from '../kpis/partials.js';
import { COMMAND_HEADER, type TaskOutput, type TaskRecord } from './task.js';

export const GLOBAL_TASK = 'global';

export interface GlobalOutput {
  partials: PartialDelta[];
  alerts: AlertChange[];
  refused: Array<{ alertId: string; kind: string }>;
}

export interface GlobalSnapshot {
  stage: unknown;
}

export class GlobalTask {
  readonly id = GLOBAL_TASK;

  constructor(
    readonly stage: GlobalStage,
    /** Next offset of `G.global` to apply. */
    public next: bigint,
  ) {}

  static restore(rules: RulesConfig, dispatchTasks: readonly string[], snapshot: GlobalSnapshot | null, start: bigint, offset: bigint | undefined, timeZone: string): GlobalTask {
    if (snapshot === null) return new GlobalTask(new GlobalStage(rules, dispatchTasks, timeZone), start);
    return new GlobalTask(GlobalStage.restore(rules, dispatchTasks, snapshot.stage, timeZone), offset ?? start);
  }

  snapshot(): GlobalSnapshot {
    return { stage: this.stage.snapshot() };
  }

  process(records: readonly TaskRecord[]): GlobalOutput {
    const out: GlobalOutput = { partials: [], alerts: [], refused: [] };
    for (const m of records) {
      const offset = BigInt(m.offset);
      if (offset < this.next) continue;
      this.next = offset + 1n;
      if (m.value === null) continue;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(m.value.toString('utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      const command = m.headers?.[COMMAND_HEADER]?.toString();
      if (command === 'ack' || command === 'resolve') {
        const note = typeof body.note === 'string' ? body.note : undefined;
        const r = command === 'ack' ? this.stage.acknowledge(String(body.alertId), String(body.by), note) : this.stage.resolve(String(body.alertId), String(body.by), note);
        if (r.ok) {
          out.partials.push(...r.step.partials);
          out.alerts.push(...r.step.alerts);
        } else out.refused.push({ alertId: String(body.alertId), kind: command });
        continue;
      }
      const step = this.stage.onReport(body as unknown as TaskReport);
      out.partials.push(...step.partials);
      out.alerts.push(...step.alerts);
    }
    return out;
  }
}

/**
 * What a task of the dispatch topic sends to `G.global` after a batch: a report per minute
 * boundary at which its fire counts changed, then how far its watermark has come. A
 * function of the task's records, so a re-read repeats it exactly.
 */
export function globalReportsOf(taskId: string, out: Pick<TaskOutput, 'reports'>, watermark: number, dispatch: boolean): TaskReport[] {
  const reports: TaskReport[] = out.reports.map((r) => ({ task: taskId, reached: r.boundary, boundary: r.boundary, buckets: r.buckets }));
  if (dispatch && Number.isFinite(watermark)) reports.push({ task: taskId, reached: Math.floor(watermark / BUCKET_MS) * BUCKET_MS });
  return reports;
}
