/**
 * Prometheus metrics (prom-client), one registry per service instance so tests can run
 * several side by side. Event counters are labelled by event type; unknown or
 * unparseable types collapse into `invalid` to keep label cardinality bounded.
 *
 * Names follow the Prometheus conventions that `promtool check metrics` checks (CI runs it
 * on /metrics after a replay): counters end in `_total` and nothing else does, a name ends
 * in its base unit, a Unix time in `_timestamp_seconds`. Where a name changed, the old one
 * stays beside it as long as it lints (README: Metrics), so dashboards do not go blank.
 */
import { ClusterMetrics } from './cluster/cluster-metrics.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineStats } from './engine/engine.js';
import type { AlertReader } from './ports.js';
import { isEventType } from './events/schemas.js';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly eventsIn: Counter<'type'>;
  readonly eventsAccepted: Counter<'type'>;
  readonly eventsRejected: Counter<'type'>;
  readonly eventsLate: Counter<'type'>;
  readonly eventsDuplicate: Counter<'type'>;
  readonly eventsFuture: Counter<'type'>;
  readonly eventsConflict: Counter<'type'>;
  /** Sets huitian_watermark_timestamp_seconds (and its deprecated alias). */
  readonly watermark: { set(seconds: number): void };
  readonly lag: Gauge;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Sets huitian_kpi_sink_backlog_partials (and its deprecated alias). */
  readonly sinkBacklog: { set(partials: number): void };
  readonly commitDuration: Histogram;
  readonly notificationsDecided: Counter;
  readonly notificationsQueued: Counter<'receiver'>;
  readonly notificationDeliveries: Counter<'receiver' | 'outcome'>;
  readonly notificationDeliveryDuration: Histogram<'receiver'>;
  readonly alertsUnacknowledged: Counter<'category' | 'severity'>;
  readonly checkpointCapture: Histogram;
  readonly checkpointLongestPause: Histogram;
  readonly checkpointDuration: Histogram;

  constructor(
    alerts: AlertReader,
    wallClock: () => number,
    maxEventTime: () => number | null,
    deliveryCounts: () => Array<{ receiver: string; state: string; count: number }> = () => [],
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'huitian_' });
    // prom-client reports the totals of active handles, requests and resources as gauges
    // named like counters; the per-type gauges beside them (huitian_nodejs_active_handles
    // {type=…}) carry the same numbers: sum() them.
    for (const kind of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`huitian_nodejs_active_${kind}_total`);
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['type'] as const, registers });
    this.eventsIn = counter('huitian_events_in_total', 'Events received from any source, by type.');
    this.eventsAccepted = counter('huitian_events_accepted_total', 'Events accepted into the engine, by type.');
    this.eventsRejected = counter('huitian_events_rejected_total', 'Events rejected as invalid (dead-lettered), by type.');
    this.eventsLate = counter('huitian_events_late_total', 'Events rejected as older than the watermark, by type.');
    this.eventsDuplicate = counter('huitian_events_duplicate_total', 'Duplicate events (same source and id) ignored, by type.');
    this.eventsFuture = counter('huitian_events_future_total', 'Events rejected as stamped too far ahead (HUITIAN_MAX_FUTURE_S), by type.');
    this.eventsConflict = counter('huitian_events_conflict_total', 'Events rejected as contradicting what is known (a reused incident id), by type.');
    const watermark = new Gauge({ name: 'huitian_watermark_timestamp_seconds', help: 'Current event-time watermark (Unix time in seconds).', registers });
    const watermarkOld = new Gauge({ name: 'huitian_watermark_seconds', help: 'Deprecated: huitian_watermark_timestamp_seconds.', registers });
    this.watermark = {
      set(seconds) {
        watermark.set(seconds);
        watermarkOld.set(seconds);
      },
    };
    this.lag = new Gauge({
      name: 'huitian_pipeline_lag_seconds',
      help: 'Wall clock minus the newest event time processed: how far behind real time the pipeline is (live streams).',
      registers,
      collect() {
        const t = maxEventTime();
        if (t !== null) this.set((wallClock() - t) / 1000);
      },
    });
    const backlog = new Gauge({ name: 'huitian_kpi_sink_backlog_partials', help: 'KPI partials waiting to be written to the external KPI store.', registers });
    const backlogOld = new Gauge({ name: 'huitian_kpi_sink_backlog', help: 'Deprecated: huitian_kpi_sink_backlog_partials.', registers });
    this.sinkBacklog = {
      set(partials) {
        backlog.set(partials);
        backlogOld.set(partials);
      },
    };
    this.commitDuration = new Histogram({
      name: 'huitian_store_commit_seconds',
      help: 'Duration of one durable commit of an engine step.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const pauses = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    this.checkpointCapture = new Histogram({
      name: 'huitian_checkpoint_capture_seconds',
      help: 'Event-loop time of capturing the engine state for a checkpoint, the part done in one go.',
      buckets: pauses,
      registers,
    });
    this.checkpointLongestPause = new Histogram({
      name: 'huitian_checkpoint_longest_pause_seconds',
      help: 'The longest a checkpoint held the event loop in one go: its capture, or one turn of writing chunks.',
      buckets: pauses,
      registers,
    });
    this.checkpointDuration = new Histogram({
      name: 'huitian_checkpoint_seconds',
      help: 'Wall time of one checkpoint, from capture to the switch, while requests go on between its slices.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'huitian_alerts',
      help: 'Alerts in the store by severity and status.',
      labelNames: ['severity', 'status'] as const,
      registers,
      collect() {
        this.reset();
        for (const row of alerts.countAlerts()) this.set({ severity: row.severity, status: row.status }, row.count);
      },
    });
    this.notificationsDecided = new Counter({ name: 'huitian_notifications_total', help: 'Notifications decided by the notification stage (a group of alerts counts once).', registers });
    this.notificationsQueued = new Counter({
      name: 'huitian_notification_deliveries_queued_total',
      help: 'Deliveries queued in the outbox, by receiver (a notification is one delivery per receiver; a CAP receiver one per alert).',
      labelNames: ['receiver'] as const,
      registers,
    });
    this.notificationDeliveries = new Counter({
      name: 'huitian_notification_delivery_attempts_total',
      help: 'Delivery attempts by receiver and outcome: delivered, retry (receiver down, 5xx, 429, timeout) or failed (refused for good, e.g. 4xx).',
      labelNames: ['receiver', 'outcome'] as const,
      registers,
    });
    this.notificationDeliveryDuration = new Histogram({
      name: 'huitian_notification_delivery_duration_seconds',
      help: 'Duration of one delivery attempt, by receiver.',
      labelNames: ['receiver'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'huitian_notification_outbox_deliveries',
      help: 'Deliveries in the outbox by receiver and state (pending, delivered, failed).',
      labelNames: ['receiver', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const row of deliveryCounts()) this.set({ receiver: row.receiver, state: row.state }, row.count);
      },
    });
    this.alertsUnacknowledged = new Counter({
      name: 'huitian_alerts_resolved_unacknowledged_total',
      help: 'Alerts resolved without ever being acknowledged (marked `unacknowledged` in their history), by category and severity.',
      labelNames: ['category', 'severity'] as const,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'huitian_http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  /** Gauges and counters of the duplicate index and its size bound, read from the engine at each scrape. */
  observeDedup(stats: () => Pick<EngineStats, 'dedupKeys' | 'dedupBytes' | 'dedupEvictedKeys' | 'lateBelowDedupFloor'>, maxBytes: number): void {
    const registers = [this.registry];
    new Gauge({ name: 'huitian_dedup_keys', help: '(source, id) pairs remembered to tell duplicates by.', registers, collect() { this.set(stats().dedupKeys); } });
    new Gauge({
      name: 'huitian_dedup_bytes',
      help: 'Estimated memory of the remembered (source, id) pairs, bounded by huitian_dedup_max_bytes (HUITIAN_DEDUP_MAX_MB).',
      registers,
      collect() {
        this.set(stats().dedupBytes);
      },
    });
    new Gauge({ name: 'huitian_dedup_max_bytes', help: 'The bound of huitian_dedup_bytes.', registers }).set(maxBytes);
    // Engine counters, restored with its state, so a restart does not reset them.
    new Counter({
      name: 'huitian_dedup_evicted_total',
      help: 'Pairs forgotten early, oldest minute first, because the dedup memory bound was reached.',
      registers,
      collect() {
        this.reset();
        this.inc(stats().dedupEvictedKeys);
      },
    });
    new Counter({
      name: 'huitian_dedup_bound_late_total',
      help: 'Events refused as late because the dedup memory bound had forgotten their minute (also counted in huitian_events_late_total).',
      registers,
      collect() {
        this.reset();
        this.inc(stats().lateBelowDedupFloor);
      },
    });
  }

  static typeLabel(type: string | null | undefined): string {
    return typeof type === 'string' && isEventType(type) ? type : 'invalid';
  }
}

/** Metrics of this service (not prom-client's process and Node.js defaults) for the README table. */
export async function metricsTableMarkdown(): Promise<string> {
  const none = { listAlerts: () => ({ items: [], nextCursor: null }), getAlert: () => undefined, alertEventsAfter: () => [], lastAlertEventSeq: () => 0, countAlerts: () => [] };
  const m = new ServiceMetrics(none, () => 0, () => null);
  m.observeDedup(() => ({ dedupKeys: 0, dedupBytes: 0, dedupEvictedKeys: 0, lateBelowDedupFloor: 0 }), 0);
  new ClusterMetrics(m.registry, { owned: () => 0, restoring: () => 0 });
  const rows = (await m.registry.getMetricsAsJSON())
    .filter((x) => !/^huitian_(process_|nodejs_)/.test(x.name))
    .map((x) => {
      const labels = (m.registry.getSingleMetric(x.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
      return `| \`${x.name}\` | ${x.type} | ${labels.map((l) => `\`${l}\``).join(', ')} | ${x.help.replace(/\|/g, '\\|')} |`;
    });
  return ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
