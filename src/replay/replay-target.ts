/** Where `huitian replay` sends a recorded stream: the HTTP API, Kafka or NATS. */

export interface SendResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** What `rejected` was, when the target says (HTTP does; a broker only takes the records in). */
  late?: number;
  invalid?: number;
  future?: number;
  conflicts?: number;
}

export interface ReplayTarget {
  readonly description: string;
  /**
   * Whether the target answers what became of each record (the HTTP API does). A broker
   * only takes records in; the service decides later, and says so in /metrics and the
   * dead letters.
   */
  readonly reportsOutcomes?: boolean;
  /** Sends one batch of NDJSON lines, in order. Throws ReplayError when it cannot. */
  send(lines: readonly string[]): Promise<SendResult>;
  close(): Promise<void>;
}

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}
