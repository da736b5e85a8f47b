/**
 * The core stays pure (DESIGN §1, STYLE "In this project"): src/events, src/time,
 * src/kpis, src/alerts and src/engine import no adapter, do no I/O and read no clock.
 * Checked on the syntax tree (TypeScript's parser), so comments and strings that mention
 * `Date.now()` do not count, and a call written across lines still does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CORE = ['events', 'time', 'kpis', 'alerts', 'engine', 'notifications', 'cap'].map((d) => join(ROOT, 'src', d));
const ADAPTERS = ['sqlite', 'http', 'kafka', 'nats', 'influx', 'service', 'cli', 'simulator', 'pipeline', 'replay'];
/** Packages the core may use: pure computation only. */
const ALLOWED_PACKAGES = new Set(['zod', 'node:crypto']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

/** Every rule the source breaks, as `line: what`. */
function impurities(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => found.push(`${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`);
  const checkSpecifier = (node: ts.Node, spec: string) => {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(fileName), spec);
      const rel = relative(join(ROOT, 'src'), target).split(/[\\/]/);
      if (!CORE.some((c) => target.startsWith(`${c}/`) || target === c)) at(node, `imports ${spec}, outside the core${ADAPTERS.some((a) => rel[0] === a || rel[0]?.startsWith(`${a}.`)) ? ' (an adapter)' : ''}`);
    } else if (!ALLOWED_PACKAGES.has(spec)) {
      at(node, `imports package ${spec}`);
    }
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node, node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(source).replace(/\s+/g, '');
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) at(node, 'dynamic import()');
      if (callee === 'require') at(node, 'require()');
      if (callee === 'Date.now' || callee === 'performance.now' || callee === 'Math.random' || callee === 'crypto.randomUUID') at(node, `calls ${callee}()`);
    }
    if (ts.isNewExpression(node) && node.expression.getText(source) === 'Date' && (node.arguments === undefined || node.arguments.length === 0)) {
      at(node, 'new Date() reads the clock');
    }
    if (ts.isIdentifier(node) && (node.text === 'process' || node.text === 'performance' || node.text === 'setTimeout' || node.text === 'setInterval')) {
      const parent = node.parent;
      // `x.process` (a property named process) is not the global.
      const isPropertyName = parent !== undefined && ts.isPropertyAccessExpression(parent) && parent.name === node;
      if (!isPropertyName) at(node, `uses ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('architecture: a pure core', () => {
  const files = CORE.flatMap(tsFiles);

  it('finds the core’s files', () => {
    for (const dir of CORE) expect(files.some((f) => f.startsWith(`${dir}/`)), dir).toBe(true);
    expect(files.length).toBeGreaterThan(30);
  });

  for (const dir of CORE) {
    it(`src/${relative(join(ROOT, 'src'), dir)} imports no adapter, does no I/O and reads no clock`, () => {
      const problems = files.filter((f) => f.startsWith(`${dir}/`)).flatMap((f) => impurities(f, readFileSync(f, 'utf8')).map((p) => `${relative(ROOT, f)}:${p}`));
      expect(problems).toEqual([]);
    });
  }

  it('the checker catches each kind of breach (so the test above can fail)', () => {
    const file = join(ROOT, 'src', 'kpis', 'example.ts');
    const bad = [
      "import { openStore } from '../sqlite/embedded-store.js';",
      "import { buildApp } from '../http/app.js';",
      "import type { Config } from '../config.js';",
      "import { readFileSync } from 'node:fs';",
      "export { x } from '../kafka/kafka-source.js';",
      'const a = Date.now();',
      'const b = Date\n  .now();',
      'const c = new Date();',
      'const d = performance.now();',
      'const e = process.env.TZ;',
      'const f = Math.random();',
      "const g = await import('../nats/nats-source.js');",
      'setTimeout(() => 0, 10);',
    ].join('\n');
    expect(impurities(file, bad)).toEqual([
      '1: imports ../sqlite/embedded-store.js, outside the core (an adapter)',
      '2: imports ../http/app.js, outside the core (an adapter)',
      '3: imports ../config.js, outside the core',
      '4: imports package node:fs',
      '5: imports ../kafka/kafka-source.js, outside the core (an adapter)',
      '6: calls Date.now()',
      '7: calls Date.now()',
      '9: new Date() reads the clock',
      '10: calls performance.now()',
      '10: uses performance',
      '11: uses process',
      '12: calls Math.random()',
      '13: dynamic import()',
      '14: uses setTimeout',
    ]);
    const fine = [
      "import { z } from 'zod';",
      "import { bucketOf } from './partials.js';",
      "import type { StepContext } from '../engine/step-context.js';",
      '// Date.now() is never called here',
      "const s = 'process Date.now() new Date()';",
      'const t = new Date(0).toISOString();',
      'const u = job.process;',
    ].join('\n');
    expect(impurities(file, fine)).toEqual([]);
  });
});
