/**
 * A usage error answers at once: every command registers its options before parsing, so
 * what the command modules import statically is loaded for `huitian --help` or a bad flag.
 * The service (fastify, the brokers' clients, InfluxDB, SQLite's stores) must not be among
 * it — it is imported when `serve`/`demo` runs (a usage error took 43 s under CI load).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The src/ files reached from `entry` by static value imports (not `import type`, not `import()`). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gms)) {
      visit(join(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return new Set([...seen].map((f) => relative(ROOT, f)));
}

describe('huitian start-up', () => {
  it('the command modules do not load the service before the options are parsed', () => {
    const graph = new Set<string>();
    for (const c of ['serve', 'replay', 'validate', 'demo', 'simulate']) {
      for (const f of staticGraph(join(ROOT, 'src', 'cli', `${c}-command.ts`))) graph.add(f);
    }
    expect(graph.has('src/cli/serve-command.ts')).toBe(true); // the walk does follow imports
    expect(graph.has('src/service.ts')).toBe(false);
    expect([...graph].filter((f) => /^src\/(http|kafka|nats|influx|delivery)\//.test(f))).toEqual([]);
  });
});
