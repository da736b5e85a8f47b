/**
 * Where an event travels: its Kafka topic, its NATS subject and its partition key
 * (the entity it is about, so that one entity's events stay in order on one partition).
 * Producers, `huitian replay` and the docs all use this one map.
 */
import { isEventType, type EventType } from './schemas.js';

const DOMAIN_OF: Record<EventType, string> = {
  'huitian.waterlogging.reading': 'waterlogging',
  'huitian.utility.reading': 'utility',
  'huitian.utility.alarm': 'utility',
  'huitian.parking.occupancy': 'parking',
  'huitian.dispatch.received': 'dispatch',
  'huitian.dispatch.dispatched': 'dispatch',
  'huitian.dispatch.arrived': 'dispatch',
  'huitian.dispatch.closed': 'dispatch',
};

const ENTITY_FIELD: Record<string, string> = {
  waterlogging: 'pointId',
  utility: 'lineId',
  parking: 'lotId',
  dispatch: 'incidentId',
};

export const DEFAULT_TOPICS = ['huitian.waterlogging', 'huitian.utility', 'huitian.parking', 'huitian.dispatch'] as const;
export const EVENTS_SUBJECT_PREFIX = 'huitian.events';
export const DLQ_NAME = 'huitian.dlq';

/** `huitian.waterlogging` for `huitian.waterlogging.reading`; undefined for an unknown type. */
export function topicOf(type: unknown): string | undefined {
  return typeof type === 'string' && isEventType(type) ? `huitian.${DOMAIN_OF[type]}` : undefined;
}

/** `huitian.events.waterlogging.reading` for `huitian.waterlogging.reading`. */
export function subjectOf(type: unknown): string | undefined {
  return typeof type === 'string' && isEventType(type) ? `${EVENTS_SUBJECT_PREFIX}.${type.slice('huitian.'.length)}` : undefined;
}

/** The entity id an event is about (pointId, lineId, lotId, incidentId), if it says. */
export function entityKeyOf(event: { type?: unknown; data?: unknown }): string | undefined {
  const topic = topicOf(event.type);
  if (topic === undefined || event.data === null || typeof event.data !== 'object') return undefined;
  const value = (event.data as Record<string, unknown>)[ENTITY_FIELD[topic.slice('huitian.'.length)]!];
  return typeof value === 'string' ? value : undefined;
}

/** Subject of an alert announcement: huitian.alerts.<category>.<severity>. */
export function alertSubjectOf(category: string, severity: string): string {
  return `huitian.alerts.${category}.${severity}`;
}
