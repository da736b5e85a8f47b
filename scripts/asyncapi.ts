/**
 * The AsyncAPI 3.0 document of huitian-brain's channels (schemas/asyncapi.yaml): the
 * Kafka topics and NATS subjects events come in on, the dead-letter channel, and the
 * alert announcements. Built from the same routing constants the code uses
 * (src/events/routing.ts) and pointing at the generated JSON Schemas, so it cannot name
 * a topic the service does not read. `npm run schemas` writes it;
 * tests/events/asyncapi.test.ts fails when the committed file drifts.
 */
import { stringify } from 'yaml';
import { ALERT_CATEGORIES, SEVERITIES } from '../src/alerts/alert.js';
import { DEFAULT_TOPICS, DLQ_NAME, subjectOf, topicOf } from '../src/events/routing.js';
import { EVENT_TYPES, type EventType } from '../src/events/schemas.js';

function messageName(type: EventType): string {
  return type
    .slice('huitian.'.length)
    .split('.')
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join('');
}

const ALERT_PAYLOAD = {
  type: 'object',
  required: ['seq', 'action', 'alert'],
  properties: {
    seq: { type: 'integer', description: 'Position in the alert feed (the SSE id of GET /v1/alerts/stream).' },
    action: { type: 'string', enum: ['opened', 'escalated', 'acknowledged', 'resolved'] },
    alert: {
      type: 'object',
      description: 'The alert after the change, as GET /v1/alerts/:id answers it.',
      required: ['id', 'rule', 'category', 'entityId', 'severity', 'status', 'title', 'titleEn', 'openedAt', 'history'],
    },
  },
};

export function asyncApiDocument(): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  for (const type of EVENT_TYPES) {
    messages[messageName(type)] = {
      name: type,
      contentType: 'application/cloudevents+json',
      summary: `${type} (structured mode; binary mode with ce_/ce- headers is accepted too)`,
      payload: { $ref: `./${type}.json` },
    };
  }
  messages.deadLetter = {
    name: 'dead letter',
    summary: 'A record that could not be accepted, as received; the reason is in the huitian-reason (Kafka) / Huitian-Reason (NATS) header.',
    headers: {
      type: 'object',
      properties: {
        'huitian-reason': { type: 'string', description: 'Why it was refused, naming the field and the rule broken, or `late`.' },
        'huitian-channel': { type: 'string' },
        'huitian-received-at': { type: 'string', format: 'date-time' },
        'huitian-type': { type: 'string' },
      },
    },
    payload: { type: 'string' },
  };
  messages.alertTransition = { name: 'alert transition', contentType: 'application/json', payload: ALERT_PAYLOAD };

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const topic of DEFAULT_TOPICS) {
    const key = `kafka_${topic.replace('huitian.', '')}`;
    const types = EVENT_TYPES.filter((t) => topicOf(t) === topic);
    channels[key] = {
      address: topic,
      description: `Kafka topic; record key = the entity id (${topic === 'huitian.dispatch' ? 'incidentId' : topic === 'huitian.parking' ? 'lotId' : topic === 'huitian.utility' ? 'lineId' : 'pointId'}).`,
      servers: [{ $ref: '#/servers/kafka' }],
      messages: Object.fromEntries(types.map((t) => [messageName(t), { $ref: `#/components/messages/${messageName(t)}` }])),
    };
    operations[`consume_${key}`] = { action: 'receive', channel: { $ref: `#/channels/${key}` } };
  }
  for (const type of EVENT_TYPES) {
    const key = `nats_${messageName(type)}`;
    channels[key] = {
      address: subjectOf(type),
      description: 'NATS JetStream subject in the events stream (subjects huitian.events.>), read by a durable pull consumer.',
      servers: [{ $ref: '#/servers/nats' }],
      messages: { [messageName(type)]: { $ref: `#/components/messages/${messageName(type)}` } },
    };
    operations[`consume_${key}`] = { action: 'receive', channel: { $ref: `#/channels/${key}` } };
  }
  channels.deadLetters = {
    address: DLQ_NAME,
    description: 'Kafka topic and NATS subject that invalid records from any source are forwarded to.',
    servers: [{ $ref: '#/servers/kafka' }, { $ref: '#/servers/nats' }],
    messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
  };
  operations.sendDeadLetters = { action: 'send', channel: { $ref: '#/channels/deadLetters' } };
  channels.alerts = {
    address: 'huitian.alerts.{category}.{severity}',
    description: 'Every alert transition, published after the alert store has it.',
    servers: [{ $ref: '#/servers/nats' }],
    parameters: {
      category: { enum: [...ALERT_CATEGORIES] },
      severity: { enum: [...SEVERITIES], description: 'China’s four warning colours: blue IV, yellow III, orange II, red I.' },
    },
    messages: { alertTransition: { $ref: '#/components/messages/alertTransition' } },
  };
  operations.sendAlerts = { action: 'send', channel: { $ref: '#/channels/alerts' } };
  channels.alertsKafka = {
    address: 'huitian.alerts',
    description: 'Optional (HUITIAN_KAFKA_ALERTS_TOPIC): every alert transition, keyed by alert id.',
    servers: [{ $ref: '#/servers/kafka' }],
    messages: { alertTransition: { $ref: '#/components/messages/alertTransition' } },
  };
  operations.sendAlertsKafka = { action: 'send', channel: { $ref: '#/channels/alertsKafka' } };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'huitian-brain channels',
      version: '1',
      description: '回天城市大脑事件流处理服务的消息通道 — the topics and subjects huitian-brain reads events from and publishes alerts and dead letters to.',
    },
    servers: {
      kafka: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'HUITIAN_KAFKA_BROKERS' },
      nats: { host: '127.0.0.1:4222', protocol: 'nats', description: 'HUITIAN_NATS_URL' },
    },
    channels,
    operations,
    components: { messages },
  };
}

export function asyncApiYaml(): string {
  return `# Generated by \`npm run schemas\` from src/events/routing.ts; do not edit.\n${stringify(asyncApiDocument(), { lineWidth: 0 })}`;
}

if (process.argv[1]?.endsWith('asyncapi.ts')) {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  writeFileSync(join(import.meta.dirname, '..', 'schemas', 'asyncapi.yaml'), asyncApiYaml());
}
