import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../scripts/generate-docs.js';

describe('README.md', () => {
  it('has the configuration, error and metric tables generated from the code (run `npm run docs`)', async () => {
    const text = readFileSync('README.md', 'utf8');
    expect(await renderReadme(text)).toBe(text);
  });

  it('starts with the two commands of the quick start', () => {
    const text = readFileSync('README.md', 'utf8');
    const quickStart = text.slice(text.indexOf('## Quick start'));
    expect(quickStart).toMatch(/```sh\nnpm ci && npm run demo\nnpm test\n```/);
  });
});
