/**
 * docker-compose.yml cannot run here (no Docker engine), so its syntax and wiring are
 * checked: every service the README promises, the service wired to all three, the
 * topics created, secrets required rather than defaulted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_FIELDS } from '../src/config.js';
import { DEFAULT_TOPICS } from '../src/events/routing.js';

type Service = { image?: string; build?: string; environment?: Record<string, string | number>; depends_on?: Record<string, { condition: string }>; command?: unknown; ports?: string[] };
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describe('docker-compose.yml', () => {
  it('runs Kafka 3.9 in KRaft mode, NATS with JetStream and InfluxDB 2.7', () => {
    const { kafka, nats, influxdb } = compose.services;
    expect(kafka!.image).toMatch(/^apache\/kafka:3\.9\./);
    expect(kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(String(kafka!.environment!.KAFKA_CONTROLLER_QUORUM_VOTERS)).toBe('1@kafka:9093');
    expect(nats!.command).toContain('-js');
    expect(influxdb!.image).toBe('influxdb:2.7');
    expect(influxdb!.environment!.DOCKER_INFLUXDB_INIT_MODE).toBe('setup');
    for (const k of ['USERNAME', 'PASSWORD', 'ORG', 'BUCKET', 'ADMIN_TOKEN']) expect(influxdb!.environment).toHaveProperty(`DOCKER_INFLUXDB_INIT_${k}`);
  });

  it('creates the event topics and the dead-letter topic', () => {
    const script = JSON.stringify(compose.services['kafka-topics']!.command);
    for (const t of [...DEFAULT_TOPICS, 'huitian.dlq']) expect(script).toContain(t);
  });

  it('wires the service to Kafka, NATS and InfluxDB with configuration keys that exist', () => {
    const svc = compose.services['huitian-brain']!;
    const env = svc.environment!;
    expect(env.HUITIAN_KAFKA_BROKERS).toBe('kafka:9092');
    expect(env.HUITIAN_NATS_URL).toBe('nats://nats:4222');
    expect(env.HUITIAN_INFLUX_URL).toBe('http://influxdb:8086');
    expect(env.HUITIAN_INFLUX_ORG).toBe(compose.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_ORG);
    expect(env.HUITIAN_INFLUX_BUCKET).toBe(compose.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_BUCKET);
    const known = new Set(Object.values(CONFIG_FIELDS).map((f) => f.env));
    for (const key of Object.keys(env)) expect(known.has(key), key).toBe(true);
    // Listening beyond loopback requires tokens: compose must demand them, not default them.
    expect(String(env.HUITIAN_TOKENS)).toMatch(/^\$\{HUITIAN_TOKENS:\?/);
    expect(Object.keys(svc.depends_on!).sort()).toEqual(['influxdb', 'kafka-topics', 'nats']);
    expect(svc.build).toBe('.');
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(compose.services)) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
  });
});
