/**
 * What the service produces to Kafka: invalid records to the dead-letter topic (reason
 * in a header) and, optionally, every alert transition to an alerts topic.
 */
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { toPublicAlert } from '../alerts/alert.js';
import type { AlertAnnouncer, CommittedAlertEvent, DeadLetter, DeadLetterForwarder } from '../ports.js';
import { formatInZone } from '../time/time-zone.js';

export class KafkaPublisher implements AlertAnnouncer, DeadLetterForwarder {
  private constructor(
    readonly producer: Producer,
    private readonly dlqTopic: string,
    private readonly alertsTopic: string | null,
    /** Zone of the times written (HUITIAN_TIMEZONE), as in the API. */
    private readonly zone: string,
  ) {}

  static async connect(kafka: Kafka, dlqTopic: string, alertsTopic: string | null, zone: string): Promise<KafkaPublisher> {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true, idempotent: false });
    await producer.connect();
    return new KafkaPublisher(producer, dlqTopic, alertsTopic, zone);
  }

  async forward(letters: readonly DeadLetter[]): Promise<void> {
    await this.producer.send({
      topic: this.dlqTopic,
      messages: letters.map((d) => deadLetterMessage(d, this.zone)),
    });
  }

  async announce(events: readonly CommittedAlertEvent[]): Promise<void> {
    if (this.alertsTopic === null) return;
    await this.producer.send({
      topic: this.alertsTopic,
      messages: events.map((e) => ({
        key: e.alert.id,
        value: JSON.stringify({ seq: e.seq, action: e.action, alert: toPublicAlert(e.alert, this.zone) }),
        headers: { 'huitian-action': e.action, 'huitian-severity': e.alert.severity, 'huitian-category': e.alert.category },
      })),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** A dead letter as a record of the dead-letter topic (single and cluster mode alike). */
export function deadLetterMessage(d: DeadLetter, zone: string): Message {
  return {
    // A record from Kafka keeps its key (the entity, so it lands beside its neighbours'
    // dead letters) and says its offset: with huitian-channel that finds it in the input.
    key: d.source === undefined ? d.eventId : d.source.key,
    value: d.payload,
    headers: {
      'huitian-reason': d.reason,
      'huitian-channel': d.channel,
      'huitian-received-at': formatInZone(d.receivedAt, zone),
      ...(d.type === null ? {} : { 'huitian-type': d.type }),
      ...(d.source === undefined ? {} : { 'huitian-source-offset': d.source.offset }),
    },
  };
}
