import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { asyncApiDocument, asyncApiYaml } from '../../scripts/asyncapi.js';
import { DEFAULT_TOPICS } from '../../src/events/routing.js';
import { EVENT_TYPES } from '../../src/events/schemas.js';

describe('schemas/asyncapi.yaml', () => {
  it('is what the generator writes (run `npm run schemas`)', () => {
    expect(readFileSync('schemas/asyncapi.yaml', 'utf8')).toBe(asyncApiYaml());
  });

  it('names every topic, subject and schema the service uses, and every $ref resolves', () => {
    const doc = parse(readFileSync('schemas/asyncapi.yaml', 'utf8')) as ReturnType<typeof asyncApiDocument> & {
      channels: Record<string, { address: string }>;
      components: { messages: Record<string, { payload: { $ref?: string } }> };
    };
    const addresses = Object.values(doc.channels).map((c) => c.address);
    for (const t of DEFAULT_TOPICS) expect(addresses).toContain(t);
    for (const t of EVENT_TYPES) expect(addresses).toContain(`huitian.events.${t.slice('huitian.'.length)}`);
    expect(addresses).toContain('huitian.dlq');
    expect(addresses).toContain('huitian.alerts.{category}.{severity}');
    const text = readFileSync('schemas/asyncapi.yaml', 'utf8');
    for (const m of text.matchAll(/\$ref: (\S+)/g)) {
      const ref = m[1]!.replace(/^"|"$/g, '');
      if (ref.startsWith('./')) expect(() => readFileSync(`schemas/${ref.slice(2)}`)).not.toThrow();
      else {
        let node: unknown = doc;
        for (const part of ref.replace('#/', '').split('/')) node = (node as Record<string, unknown>)[part];
        expect(node, ref).toBeDefined();
      }
    }
  });
});
