/**
 * CloudEvents as the official SDKs send them, over real HTTP: the JavaScript SDK (npm
 * `cloudevents`) and the Python SDK (PyPI `cloudevents`, both its APIs, run as a child
 * process from the venv scripts/ci/interface-tools.sh makes), each in binary and
 * structured mode. Binary mode is told by `ce-specversion` whatever the Content-Type:
 * absent (the Python SDK's classic to_binary without datacontenttype), application/json,
 * with a charset, or another +json type.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { get, postEvents, startTestService, TOKENS, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const VENV = process.env.HUITIAN_PYTHON_VENV ?? join(homedir(), '.cache', 'huitian-ci', 'venv');
const PYTHON = join(VENV, 'bin', 'python');
const pythonSdk = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import cloudevents.core, cloudevents.v1.http'], { encoding: 'utf8' }).status === 0;
if (!pythonSdk) {
  if (process.env.CI === 'true') throw new Error(`CI=true and the CloudEvents Python SDK is not in ${VENV} (bash scripts/ci/interface-tools.sh)`);
  process.stderr.write(`\n!!! CloudEvents Python SDK not found in ${VENV}: its test is SKIPPED (bash scripts/ci/interface-tools.sh)\n\n`);
}

function runPython(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function listening() {
  const ts = await startTestService({ auth: true, overrides: { port: 0 } });
  const address = await ts.service.start();
  return { ts, url: `${address}/v1/events` };
}

/**
 * The lots whose readings were applied, from the parking KPI grouped by lot. A reading ten
 * minutes later moves the watermark past 08:00, so that minute is sampled.
 */
async function lotsSeen(ts: Awaited<ReturnType<typeof listening>>['ts'], prefix: string): Promise<string[]> {
  const later = { ...reading('zz-later').toJSON(), time: '2026-07-21T08:10:00+08:00' };
  expect((await postEvents(ts.app, [later], TOKENS.ingest)).status).toBe(202);
  const r = await get(ts.app, `/v1/kpis/parking_occupancy_rate?from=${encodeURIComponent('2026-07-21T07:00:00+08:00')}&to=${encodeURIComponent('2026-07-21T09:00:00+08:00')}&groupBy=lot`, { token: TOKENS.viewer });
  expect(r.status).toBe(200);
  return (r.json.groups as Array<{ key: { lot: string } }>).map((g) => g.key.lot).filter((l) => l.startsWith(prefix)).sort();
}

/** POSTs with exactly these headers (fetch would add a text/plain content type to a bare body). */
function postExactly(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const reading = (id: string) =>
  new CloudEvent({
    id,
    source: '/parking/guidance',
    type: 'huitian.parking.occupancy',
    time: '2026-07-21T08:00:00+08:00',
    data: { lotId: id, capacity: 100, occupied: 42, district: '回龙观街道' },
  });

describe('the CloudEvents JavaScript SDK', () => {
  it('is accepted in binary and structured mode, and binary mode under any JSON content type or none', async () => {
    const { ts, url } = await listening();
    const send = async (message: { headers: Record<string, unknown>; body: unknown }, headers: Record<string, string | undefined> = {}) => {
      const h: Record<string, string> = { authorization: `Bearer ${TOKENS.ingest}` };
      for (const [k, v] of Object.entries({ ...message.headers, ...headers })) if (v !== undefined) h[k] = String(v);
      return postExactly(url, h, String(message.body));
    };
    const accepted = { accepted: 1, duplicates: 0, rejected: 0, errors: [] };
    const binary = HTTP.binary(reading('js-binary'));
    expect(binary.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(binary.headers['ce-specversion']).toBe('1.0');
    expect(await send(binary)).toEqual({ status: 202, body: accepted });
    const structured = HTTP.structured(reading('js-structured'));
    expect(structured.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(await send(structured)).toEqual({ status: 202, body: accepted });
    // The same binary message with the content type a producer might set, or none.
    for (const [id, type] of [['js-none', undefined], ['js-json', 'application/json'], ['js-vendor', 'application/vnd.huitian.parking+json'], ['js-vendor-cs', 'application/vnd.huitian.parking+json; charset=utf-8']] as const) {
      const m = HTTP.binary(reading(id));
      const { 'content-type': _dropped, ...withoutType } = m.headers as Record<string, unknown>;
      expect(await send({ headers: withoutType, body: m.body }, { 'content-type': type }), id).toEqual({ status: 202, body: accepted });
    }
    expect(await lotsSeen(ts, 'js-')).toEqual(['js-binary', 'js-json', 'js-none', 'js-structured', 'js-vendor', 'js-vendor-cs']);
    // Without ce-specversion a body with no content type is still refused, as before.
    const bare = await postExactly(url, { authorization: `Bearer ${TOKENS.ingest}` }, '{}');
    expect([bare.status, (bare.body as { error: { code: string } }).error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });
});

describe.skipIf(!pythonSdk)('the CloudEvents Python SDK', () => {
  it('is accepted in binary and structured mode, from both of its APIs', async () => {
    const { ts, url } = await listening();
    // Asynchronously: the service answering it runs in this process.
    const run = await runPython(['tests/fixtures/cloudevents_sdk_send.py', url, TOKENS.ingest, 'py']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const sent = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; status: number; contentType: string | null; body: unknown });
    const accepted = { accepted: 1, duplicates: 0, rejected: 0, errors: [] };
    expect(sent.map((s) => [s.name, s.status, s.body])).toEqual(
      ['core-binary', 'core-structured', 'classic-binary', 'classic-binary-json', 'classic-structured'].map((n) => [n, 202, accepted]),
    );
    // What made issue 13: the classic to_binary sends no Content-Type at all.
    expect(sent.find((s) => s.name === 'classic-binary')!.contentType).toBeNull();
    expect(sent.find((s) => s.name === 'core-structured')!.contentType).toMatch(/^application\/cloudevents\+json/);
    expect(await lotsSeen(ts, 'py-')).toEqual(['py-classic-binary', 'py-classic-binary-json', 'py-classic-structured', 'py-core-binary', 'py-core-structured']);
  });
});
