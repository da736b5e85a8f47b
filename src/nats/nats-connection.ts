/** NATS connection and the JetStream stream of events, created when missing. */
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_SUBJECT_PREFIX } from '../events/routing.js';

export const EVENTS_SUBJECTS = `${EVENTS_SUBJECT_PREFIX}.>`;

export async function connectNats(servers: readonly string[], name: string): Promise<NatsConnection> {
  return connect({ servers: [...servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
}

/** Creates the events stream (subjects huitian.events.>) if it does not exist. */
export async function ensureEventStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({
      name: stream,
      subjects: [EVENTS_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // A week of events: enough to replay after an outage, bounded on disk.
      max_age: 7 * 24 * 3600 * 1_000_000_000,
      duplicate_window: 2 * 60 * 1_000_000_000,
    });
  }
}
