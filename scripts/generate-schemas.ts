/**
 * Writes `schemas/<event type>.json` and `schemas/README.md` from the zod schemas
 * (`npm run schemas`). tests/events/json-schemas.test.ts fails when they drift.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateJsonSchemas, schemasReadme } from '../src/events/json-schemas.js';

const dir = join(import.meta.dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
const files = generateJsonSchemas();
// A type removed from the contract must not leave its schema behind.
for (const name of readdirSync(dir)) if (name.endsWith('.json') && !(name in files)) rmSync(join(dir, name));
for (const [name, schema] of Object.entries(files)) writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
writeFileSync(join(dir, 'README.md'), schemasReadme());
console.log(`wrote ${Object.keys(files).length} schemas and README.md to ${dir}`);
