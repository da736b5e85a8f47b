/**
 * `huitian replay --to nats://host:port`: each line is published to JetStream on
 * huitian.events.<type without "huitian.">, e.g. huitian.events.waterlogging.reading,
 * and waits for the stream's acknowledgement. Malformed lines go to huitian.events.invalid.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_SUBJECT_PREFIX, subjectOf } from '../events/routing.js';
import { ReplayError, type ReplayTarget, type SendResult } from '../replay/replay-target.js';
import { connectNats, ensureEventStream } from './nats-connection.js';

const encoder = new TextEncoder();

export class NatsReplayTarget implements ReplayTarget {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    readonly description: string,
  ) {}

  static async connect(url: URL, stream = process.env.HUITIAN_NATS_STREAM ?? 'HUITIAN_EVENTS'): Promise<NatsReplayTarget> {
    const server = `${url.hostname}:${url.port || '4222'}`;
    let nc: NatsConnection;
    try {
      nc = await connectNats([server], 'huitian-replay');
      await ensureEventStream(nc, stream);
    } catch (err) {
      throw new ReplayError(`cannot connect to NATS JetStream at ${server}: ${(err as Error).message}`, true);
    }
    return new NatsReplayTarget(nc, jetstream(nc), `nats://${server}`);
  }

  async send(lines: readonly string[]): Promise<SendResult> {
    try {
      // Published concurrently, acknowledged in order by the stream.
      await Promise.all(
        lines.map((line) => {
          let type: unknown;
          try {
            type = (JSON.parse(line) as { type?: unknown }).type;
          } catch {
            type = undefined;
          }
          return this.js.publish(subjectOf(type) ?? `${EVENTS_SUBJECT_PREFIX}.invalid`, encoder.encode(line));
        }),
      );
    } catch (err) {
      throw new ReplayError(`JetStream refused a message: ${(err as Error).message}`, true);
    }
    return { accepted: lines.length, duplicates: 0, rejected: 0 };
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
