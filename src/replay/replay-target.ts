/** Where `huitian replay` sends a recorded stream: the HTTP API, Kafka or NATS. */

export interface SendResult {
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface ReplayTarget {
  readonly description: string;
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
