/**
 * The operations console's page and assets (built into dist/console by console/build.ts),
 * served by the service itself so it works on an intranet with no internet: `GET /`
 * redirects to `/console/`. The files are read on the first request and kept in memory
 * with their gzip form (once per process and directory: a test run starts hundreds of
 * services that never serve the page); a Content-Security-Policy lets the page load and
 * connect to nothing but this origin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { HuitianError } from '../errors.js';
import { failure, route, text } from './route-schemas.js';

/** dist/console beside src/ or dist/ (this file runs from either). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/**
 * ECharts writes its tooltips' inline style attributes, hence 'unsafe-inline' for styles;
 * scripts, connections and everything else: this origin only.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const loaded = new Map<string, Map<string, Asset>>();

function assetsOf(dir: string): Map<string, Asset> {
  let assets = loaded.get(dir);
  if (assets === undefined) {
    assets = loadAssets(dir);
    // A missing build is looked for again next time (`npm run build` while the service runs).
    if (assets.size > 0) loaded.set(dir, assets);
  }
  return assets;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(dir, 'index.html'))) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { type, body, gzip: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  void reply
    .header('content-type', asset.type)
    .header('etag', asset.etag)
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (asset.type.startsWith('text/html')) void reply.header('content-security-policy', CONSOLE_CSP);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (/\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

const page = text('text/html', 'The console page');

export function registerConsoleRoutes(app: FastifyInstance, dir: string = DEFAULT_CONSOLE_DIR): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const redirect = (description: string) => ({ description, headers: { Location: { description: 'The console: /console/', required: true, schema: { type: 'string' } } } });
  r.get(
    '/',
    route({
      operationId: 'getRoot',
      summary: 'Redirects to the operations console (/console/)',
      description: '根路径重定向到运营指挥中心控制台 /console/。',
      tags: ['console'],
      action: 'open',
      responses: { 302: redirect('To /console/') },
    }),
    async (_request, reply) => reply.redirect('/console/', 302),
  );
  r.get(
    '/console',
    route({
      operationId: 'getConsoleWithoutSlash',
      summary: 'Redirects to /console/',
      description: '重定向到 /console/（相对路径的资源以斜杠结尾的地址为准）。',
      tags: ['console'],
      action: 'open',
      responses: { 301: redirect('To /console/') },
    }),
    async (_request, reply) => reply.redirect('/console/', 301),
  );
  r.get(
    '/console/',
    route({
      operationId: 'getConsole',
      summary: 'The operations console (the page)',
      description:
        '运营指挥中心控制台页面：实时告警、指标与目标、地图与数据时效；所有脚本与样式均由本服务提供，不访问外网。页面本身无需令牌，页面调用的接口需要。\n\nThe page and its assets need no token; the API calls it makes do.',
      tags: ['console'],
      action: 'open',
      responses: { 200: page, 304: { description: 'Not modified (If-None-Match)' }, 503: failure('CONSOLE_NOT_BUILT') },
    }),
    async (request, reply) => {
      const index = assetsOf(dir).get('index.html');
      if (index === undefined) throw new HuitianError('CONSOLE_NOT_BUILT');
      return send(request, reply, index);
    },
  );
  r.get(
    '/console/:file',
    route({
      operationId: 'getConsoleAsset',
      summary: "The console's script, stylesheet and licence notices",
      description: '控制台的脚本、样式与第三方许可声明（构建时由 npm 包打包生成）。',
      tags: ['console'],
      action: 'open',
      params: z.object({ file: z.string().describe('app.js, app.css, app.js.LEGAL.txt, index.html') }),
      responses: {
        200: { description: 'The asset', content: { 'text/javascript': z.string(), 'text/css': z.string(), 'text/plain': z.string(), 'text/html': z.string() } },
        304: { description: 'Not modified (If-None-Match)' },
        404: failure('NOT_FOUND'),
        503: failure('CONSOLE_NOT_BUILT'),
      },
    }),
    async (request, reply) => {
      const assets = assetsOf(dir);
      const asset = assets.get(request.params.file);
      if (asset === undefined) {
        if (assets.size === 0) throw new HuitianError('CONSOLE_NOT_BUILT');
        throw new HuitianError('NOT_FOUND', { method: 'GET', url: `/console/${request.params.file}` });
      }
      return send(request, reply, asset);
    },
  );
}
