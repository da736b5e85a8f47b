/** What the HTTP layer needs from the running service. */
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config.js';
import type { ServiceMetrics } from '../metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { AlertReader, CapMessages, DeadLetterReader, KpiReader } from '../ports.js';
import type { AlertStreamHub } from './alert-stream.js';
import type { Alert } from '../alerts/alert.js';
import type { EmbeddedStore } from '../sqlite/embedded-store.js';
import type { ClusterRuntime } from '../cluster/cluster-runtime.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves to null when ready, or a sentence saying what is not. */
  check: () => Promise<string | null> | string | null;
}

export interface AppDeps {
  config: ServiceConfig;
  logger: Logger;
  pipeline: Pipeline;
  alerts: AlertReader;
  deadLetters: DeadLetterReader;
  kpis: KpiReader;
  metrics: ServiceMetrics;
  hub: AlertStreamHub;
  readiness: ReadinessCheck[];
  wallClock: () => number;
  /** The embedded store: notification outbox and silences (issue 12). */
  store: EmbeddedStore;
  /** The CAP 1.2 message of an alert version. */
  renderCap: (alert: Alert) => string;
  /** The CAP identifiers (the store's in single mode, the cluster's numbers in cluster mode); the store when absent. */
  capMessages?: CapMessages;
  /** Where the built console is (default dist/console); tests build one of their own. */
  consoleDir?: string;
  /** Cluster mode (docs/cluster.md): ingest, operator commands and the clock go through it. */
  cluster?: ClusterRuntime;
}
