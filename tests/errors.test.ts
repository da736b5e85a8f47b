/**
 * Every error code is documented (fastify's errors.test.js habit): README.md has a section
 * that lists each code of src/errors.ts with its HTTP status, and nothing else.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HuitianError, type ErrorCode } from '../src/errors.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function errorSection(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.search(/^#+ Error codes\s*$/m);
  expect(start, 'README.md has an "Error codes" section').toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start);
  const body = rest.indexOf('\n') + 1;
  const next = rest.slice(body).search(/^#{1,3} /m);
  return next < 0 ? rest : rest.slice(0, body + next);
}

describe('error codes', () => {
  it.each(CODES)('README.md documents %s with its HTTP status', (code) => {
    const section = errorSection();
    const row = section.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `a table row for ${code}`).toBeDefined();
    const cells = row!.split('|').map((c) => c.trim());
    expect(cells[2]).toBe(String(ERROR_CODES[code].status));
    expect(cells[3]).toBe(ERROR_CODES[code].retriable ? 'yes' : 'no');
  });

  it('README.md lists no code that does not exist', () => {
    const listed = [...errorSection().matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...CODES].sort());
  });

  it('maps every code to an error status; only 429 and 5xx may be retried', () => {
    for (const code of CODES) {
      const { status, retriable, message } = ERROR_CODES[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      if (retriable) expect(status === 429 || status >= 500, code).toBe(true);
      expect(message.length, code).toBeGreaterThan(0);
    }
  });

  it('renders the message template and the {error:{code, message, details?}} body', () => {
    const e = new HuitianError('FORBIDDEN', { role: 'viewer', action: 'ingest', needed: 'ingest' });
    expect([e.code, e.status, e.retriable, e.message]).toEqual(['FORBIDDEN', 403, false, 'role viewer may not ingest; ask for a token with role ingest']);
    expect(e.toBody()).toEqual({ error: { code: 'FORBIDDEN', message: 'role viewer may not ingest; ask for a token with role ingest' } });
    const withDetails = new HuitianError('VALIDATION_FAILED', { details: 'a; b' }, { details: ['a', 'b'] });
    expect(withDetails.toBody()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'the request is invalid: a; b', details: ['a', 'b'] } });
    // A missing parameter stays visible rather than turning into "undefined".
    expect(new HuitianError('ALERT_NOT_FOUND').message).toBe('no alert with id {id}');
    const cause = new Error('disk full');
    expect(new HuitianError('STORE_UNAVAILABLE', { details: 'x' }, { cause }).cause).toBe(cause);
  });
});
