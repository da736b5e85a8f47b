/**
 * Starts the real services for the integration tests (scripts/services.sh up) unless
 * they already run, and stops at the end what it started, so `npm test` leaves no
 * process behind. Under CI=true a service that cannot start fails the run; elsewhere
 * the integration tests are skipped, loudly, with the reason.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { portOpen } from '../../scripts/cluster-input.js';

export interface ServicesInfo {
  available: boolean;
  reason: string;
  kafka: string;
  nats: string;
  influx: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesInfo;
  }
}

/**
 * The ports scripts/services.sh uses, from the same variables it reads, so that several
 * checkouts on one machine can each run their own services (e.g. KAFKA_PORT=19092
 * NATS_PORT=14222 INFLUX_PORT=18086 with their own HUITIAN_SERVICES_DIR).
 */
function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port, got ${JSON.stringify(raw)}`);
  return port;
}

const ADDRESSES = {
  kafka: ['127.0.0.1', portFromEnv('KAFKA_PORT', 9092)],
  nats: ['127.0.0.1', portFromEnv('NATS_PORT', 4222)],
  influx: ['127.0.0.1', portFromEnv('INFLUX_PORT', 8086)],
} as const;

async function allRunning(): Promise<boolean> {
  const states = await Promise.all(Object.values(ADDRESSES).map(([h, p]) => portOpen(h, p)));
  return states.every(Boolean);
}

function run(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('bash', ['scripts/services.sh', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ci = process.env.CI === 'true';
  // The kill -9 test runs the built CLI, so dist/ must match src/.
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed before integration tests:\n${build.stdout}${build.stderr}`);

  let startedHere = false;
  let reason = '';
  if (!(await allRunning())) {
    process.stderr.write('integration: starting Kafka, NATS and InfluxDB with scripts/services.sh up …\n');
    const started = Date.now();
    const r = run(['up']);
    if (r.ok && (await allRunning())) {
      startedHere = true;
      process.stderr.write(`integration: services up in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    } else {
      reason = `scripts/services.sh up failed:\n${r.output.split('\n').slice(-30).join('\n')}`;
      if (ci) throw new Error(`CI=true and the real services are unavailable, so the integration tests cannot run.\n${reason}`);
      process.stderr.write(`\n!!! INTEGRATION TESTS SKIPPED: the real services are unavailable.\n${reason}\n\n`);
    }
  }
  const info: ServicesInfo = {
    available: reason === '',
    reason,
    kafka: `${ADDRESSES.kafka[0]}:${ADDRESSES.kafka[1]}`,
    nats: `nats://${ADDRESSES.nats[0]}:${ADDRESSES.nats[1]}`,
    influx: `http://${ADDRESSES.influx[0]}:${ADDRESSES.influx[1]}`,
  };
  project.provide('services', info);
  return async () => {
    if (startedHere) {
      const r = run(['down']);
      if (!r.ok) process.stderr.write(`integration: scripts/services.sh down failed:\n${r.output}\n`);
    }
  };
}
