/**
 * The Kafka of the cluster figures: `--kafka HOST:PORT` names a running one; otherwise the
 * one of `scripts/services.sh` (its KAFKA_PORT, 9092 by default, and HUITIAN_SERVICES_DIR),
 * started with `scripts/services.sh up kafka` when nothing answers there, and stopped again
 * at the end (`down kafka`) when the benchmark started it.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portOpen } from '../scripts/cluster-input.js';

/** The repository root, from benchmarks/ or dist-bench/benchmarks/. */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes('dist-bench') ? join(here, '..', '..') : join(here, '..');
}

function services(args: string[]): void {
  const r = spawnSync('bash', [join(repoRoot(), 'scripts', 'services.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  if (r.status !== 0) throw new Error(`scripts/services.sh ${args.join(' ')} failed:\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-20).join('\n')}`);
}

export async function ensureKafka(say: (line: string) => void): Promise<{ brokers: string; stop: () => void }> {
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  const brokers = `127.0.0.1:${port}`;
  if (await portOpen('127.0.0.1', port)) return { brokers, stop: () => undefined };
  say(`kafka: starting Kafka on ${brokers} with scripts/services.sh up kafka …`);
  services(['up', 'kafka']);
  return { brokers, stop: () => services(['down', 'kafka']) };
}
