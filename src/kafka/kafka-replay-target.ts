/**
 * `huitian replay --to kafka://host:port`: each line goes to its type's topic
 * (huitian.waterlogging, huitian.utility, huitian.parking, huitian.dispatch) keyed by
 * its entity, as the hub's producers do. A line that is not a recognisable event (the
 * recording's malformed records) goes to the first topic so the service dead-letters it.
 */
import { Partitioners, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { DEFAULT_TOPICS, entityKeyOf, topicOf } from '../events/routing.js';
import { ReplayError, type ReplayTarget, type SendResult } from '../replay/replay-target.js';
import { createKafka } from './kafka-client.js';

export class KafkaReplayTarget implements ReplayTarget {
  private constructor(
    private readonly producer: Producer,
    readonly description: string,
  ) {}

  static async connect(url: URL): Promise<KafkaReplayTarget> {
    const broker = `${url.hostname}:${url.port || '9092'}`;
    const kafka = createKafka([broker], 'huitian-replay', pino({ level: 'warn' }, pino.destination(2)));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
    try {
      await producer.connect();
    } catch (err) {
      throw new ReplayError(`cannot connect to Kafka at ${broker}: ${(err as Error).message}`, true);
    }
    return new KafkaReplayTarget(producer, `kafka://${broker}`);
  }

  async send(lines: readonly string[]): Promise<SendResult> {
    const byTopic = new Map<string, Array<{ key: string | null; value: string; headers: Record<string, string> }>>();
    for (const line of lines) {
      let parsed: { type?: unknown; data?: unknown } = {};
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        /* malformed: forwarded as is */
      }
      const topic = topicOf(parsed.type) ?? DEFAULT_TOPICS[0];
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push({ key: entityKeyOf(parsed) ?? null, value: line, headers: { 'content-type': 'application/cloudevents+json' } });
    }
    try {
      await this.producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (err) {
      throw new ReplayError(`Kafka refused the batch: ${(err as Error).message}`, true);
    }
    return { accepted: lines.length, duplicates: 0, rejected: 0 };
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
