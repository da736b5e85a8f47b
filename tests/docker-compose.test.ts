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
import { DASHBOARD_FILE, INFLUX_UID, PROMETHEUS_UID } from '../scripts/grafana-dashboard.js';

type Service = {
  image?: string;
  build?: string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }> | string[];
  command?: unknown;
  ports?: string[];
  volumes?: string[];
};
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

  it('provisions Grafana with the InfluxDB (Flux) and Prometheus data sources the dashboard uses, and the dashboard', () => {
    const grafana = compose.services.grafana!;
    const influx = compose.services.influxdb!.environment!;
    expect(grafana.image).toMatch(/^grafana\/grafana-oss:\d+\./);
    const mounts = new Map((grafana.volumes ?? []).map((v) => v.split(':').slice(0, 2) as [string, string]));
    const hostOf = (container: string) => [...mounts].find(([, c]) => c === container)?.[0];
    expect(hostOf('/etc/grafana/provisioning')).toBe('./dashboards/grafana/provisioning');
    const datasources = parse(readFileSync('dashboards/grafana/provisioning/datasources/huitian.yaml', 'utf8')) as {
      datasources: Array<{ uid: string; type: string; url: string; jsonData?: Record<string, string>; secureJsonData?: Record<string, string> }>;
    };
    const byUid = new Map(datasources.datasources.map((d) => [d.uid, d]));
    const ds = byUid.get(INFLUX_UID)!;
    expect([ds.type, ds.url, ds.jsonData!.version]).toEqual(['influxdb', 'http://influxdb:8086', 'Flux']);
    expect(ds.jsonData!.organization).toBe(influx.DOCKER_INFLUXDB_INIT_ORG);
    expect(ds.jsonData!.defaultBucket).toBe(influx.DOCKER_INFLUXDB_INIT_BUCKET);
    // The token comes from the same variable InfluxDB is set up with, passed to Grafana.
    expect(ds.secureJsonData!.token).toBe('${INFLUXDB_ADMIN_TOKEN}');
    expect(String(grafana.environment!.INFLUXDB_ADMIN_TOKEN)).toBe('${INFLUXDB_ADMIN_TOKEN}');
    expect(String(grafana.environment!.GF_SECURITY_ADMIN_PASSWORD)).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(byUid.get(PROMETHEUS_UID)!.url).toBe('http://prometheus:9090');
    // Every panel's data source is one that is provisioned; the dashboard file is where the provider looks.
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Array<{ datasource: { uid: string } }> };
    for (const p of dashboard.panels) expect(byUid.has(p.datasource.uid), p.datasource.uid).toBe(true);
    const providers = parse(readFileSync('dashboards/grafana/provisioning/dashboards/huitian.yaml', 'utf8')) as { providers: Array<{ options: { path: string } }> };
    const path = providers.providers[0]!.options.path;
    expect(hostOf(path)).toBe('./' + DASHBOARD_FILE.split('/').slice(0, -1).join('/'));
  });

  it('runs Prometheus scraping the service on the port it listens on', () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.volumes).toContain('./dashboards/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const config = parse(readFileSync('dashboards/prometheus/prometheus.yml', 'utf8')) as { scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }> };
    const job = config.scrape_configs[0]!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.static_configs[0]!.targets).toEqual([`huitian-brain:${compose.services['huitian-brain']!.environment!.HUITIAN_PORT}`]);
  });
});
