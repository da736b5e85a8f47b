/**
 * What the cluster benchmark (benchmarks/kafka.ts) and the cluster integration tests
 * (tests/integration/cluster-helpers.ts) both need: simulated NDJSON lines as input records
 * the way producers write them, and whether a service of scripts/services.sh answers.
 */
import { createConnection } from 'node:net';
import { entityKeyOf } from '../src/events/routing.js';

/** The input topics' domains: one topic per domain, `<prefix>.<domain>`. */
export const DOMAINS = ['waterlogging', 'utility', 'parking', 'dispatch'] as const;

export interface InputRecord {
  topic: string;
  key: string | null;
  value: string;
}

/** NDJSON lines as input records: topic by domain, key by entity (a malformed line goes unkeyed to the first topic: the task must dead-letter it, not lose it). */
export function inputRecords(lines: Iterable<string>, prefix: string): InputRecord[] {
  const out: InputRecord[] = [];
  for (const line of lines) {
    let key: string | null = null;
    let domain: string = DOMAINS[0];
    try {
      const e = JSON.parse(line) as { type?: unknown; data?: unknown };
      key = entityKeyOf(e) ?? null;
      const d = typeof e.type === 'string' ? e.type.split('.')[1] : undefined;
      if (d !== undefined && (DOMAINS as readonly string[]).includes(d)) domain = d;
    } catch {
      // A malformed fault line is a record too.
    }
    out.push({ topic: `${prefix}.${domain}`, key, value: line });
  }
  return out;
}

/** Whether something accepts a TCP connection at host:port within a second. */
export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
