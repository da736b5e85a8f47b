/**
 * Cluster mode's metrics (docs/cluster.md §8): tasks owned and restoring, each task's lag
 * and watermark, restore times. Defined apart from the runtime so the README's metric table
 * (`npm run docs`) lists them too.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ClusterCounts {
  owned(): number;
  restoring(): number;
}

export class ClusterMetrics {
  readonly lag: Gauge<'task'>;
  readonly watermark: Gauge<'task'>;
  readonly restore: Histogram;
  readonly retouched: Counter;

  constructor(registry: Registry, counts: ClusterCounts) {
    const registers = [registry];
    new Gauge({
      name: 'huitian_tasks_owned',
      help: 'Cluster mode: tasks (input partitions, and the global stage) this instance owns.',
      registers,
      collect() {
        this.set(counts.owned());
      },
    });
    new Gauge({
      name: 'huitian_tasks_restoring',
      help: 'Cluster mode: owned tasks still restoring from their checkpoint.',
      registers,
      collect() {
        this.set(counts.restoring());
      },
    });
    this.lag = new Gauge({ name: 'huitian_task_lag_records', help: "Cluster mode: records of a task's partition not yet applied.", labelNames: ['task'] as const, registers });
    this.watermark = new Gauge({
      name: 'huitian_task_watermark_timestamp_seconds',
      help: 'Cluster mode: event-time watermark of a task (Unix time in seconds).',
      labelNames: ['task'] as const,
      registers,
    });
    this.restore = new Histogram({
      name: 'huitian_task_restore_seconds',
      help: 'Cluster mode: time from assignment to a task restored from its checkpoint.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.retouched = new Counter({
      name: 'huitian_task_partial_retouch_total',
      help: 'Cluster mode: KPI partial keys changed after leaving a task’s partial table; a re-read would miscount them, so anything but 0 is a bug to report.',
      registers,
    });
  }
}
