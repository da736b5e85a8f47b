/**
 * GET / → /console/, the console's page and assets served by the service itself (open,
 * with a CSP that allows this origin only, gzip and ETags), and a clear 503 when the
 * console was never built.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { call, expectError, get, startTestService, tempDir, TOKENS, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

function fakeConsole(): string {
  const dir = join(tempDir(), 'console');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>回天</title><script type="module" src="app.js"></script>');
  writeFileSync(join(dir, 'app.js'), `console.log(${JSON.stringify('x'.repeat(5000))});`);
  writeFileSync(join(dir, 'app.css'), 'body{color:red}');
  return dir;
}

describe('the console routes', () => {
  it('redirects / to /console/ and serves the page without a token, with a CSP of this origin only', async () => {
    const { app } = await startTestService({ auth: true, consoleDir: fakeConsole() });
    const root = await call(app, 'GET', '/');
    expect([root.status, root.headers.location]).toEqual([302, '/console/']);
    expect((await call(app, 'GET', '/console')).headers.location).toBe('/console/');
    const page = await get(app, '/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>回天</title>');
    const csp = String(page.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toMatch(/https?:/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // The data behind it still needs a token.
    expectError(await get(app, '/v1/alerts'), 401, 'UNAUTHORIZED');
    expect((await get(app, '/v1/alerts', { token: TOKENS.viewer })).status).toBe(200);
  });

  it('serves the assets with their types, gzip when asked, and 304 for an unchanged ETag', async () => {
    const { app } = await startTestService({ consoleDir: fakeConsole() });
    const js = await app.inject({ method: 'GET', url: '/console/app.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(js.rawPayload).toString()).toContain('console.log(');
    expect(js.rawPayload.length).toBeLessThan(500);
    const plain = await app.inject({ method: 'GET', url: '/console/app.css' });
    expect([plain.headers['content-type'], plain.headers['content-encoding'], plain.body]).toEqual(['text/css; charset=utf-8', undefined, 'body{color:red}']);
    const again = await app.inject({ method: 'GET', url: '/console/app.css', headers: { 'if-none-match': String(plain.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expectError(await get(app, '/console/missing.js'), 404, 'NOT_FOUND');
    expectError(await get(app, '/console/..%2Fpackage.json'), 404, 'NOT_FOUND');
  });

  it('answers 503 CONSOLE_NOT_BUILT, saying what to run, when there is no build', async () => {
    const { app } = await startTestService({ consoleDir: join(tempDir(), 'nothing-here') });
    const error = expectError(await get(app, '/console/'), 503, 'CONSOLE_NOT_BUILT');
    expect(error.message).toBe('the operations console is not built; run npm run build (npm ci does it) and restart');
    expectError(await get(app, '/console/app.js'), 503, 'CONSOLE_NOT_BUILT');
    expect((await call(app, 'GET', '/')).status).toBe(302);
  });
});
