/**
 * Starts the real service (createService) on a fresh temporary data directory with a
 * silent logger and a manual wall clock, and stops it after each test. Requests go
 * through `app.inject()`; every answer is checked for leaked stack traces and paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, expect } from 'vitest';
import { loadConfig, type ConfigOverrides, type Role, type ServiceConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createService, type Service } from '../../src/service.js';
import { checkEveryAnswer } from './openapi-conformance.js';

/** One token per role (each ≥ 8 characters, as loadConfig requires). */
export const TOKENS: Record<Role, string> = {
  viewer: 'viewer-token-0001',
  operator: 'operator-token-01',
  ingest: 'ingest-token-0001',
  admin: 'admin-token-00001',
};
export const TOKENS_ENV = Object.entries(TOKENS)
  .map(([role, token]) => `${role}:${token}`)
  .join(',');

/** Wall time of the tests: a fixed instant that the tests move by hand. */
export const WALL_START = Date.parse('2026-07-21T09:00:00+08:00');

export class ManualClock {
  constructor(public ms: number = WALL_START) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function tempDir(prefix = 'huitian-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}
const createdDirs: string[] = [];

export interface StartOptions {
  /** HUITIAN_* variables; HUITIAN_TIME_MODE defaults to `replay` here, HUITIAN_TOKENS to none. */
  env?: Record<string, string>;
  overrides?: ConfigOverrides;
  dataDir?: string;
  clock?: ManualClock;
  /** Configure a token per role (TOKENS). */
  auth?: boolean;
  /** A built console to serve (tests/helpers/browser.ts builds one). */
  consoleDir?: string;
}

export interface TestService {
  readonly service: Service;
  readonly app: FastifyInstance;
  readonly config: ServiceConfig;
  readonly dataDir: string;
  readonly clock: ManualClock;
  /** Answers that did not conform to the OpenAPI document; the test fails when any is left. */
  readonly nonConforming: string[];
  stop(): Promise<void>;
}

export async function startTestService(options: StartOptions = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? tempDir();
  const env: Record<string, string> = {
    HUITIAN_DATA_DIR: dataDir,
    HUITIAN_TIME_MODE: 'replay',
    HUITIAN_INSTANCE_ID: 'test',
    ...(options.auth === true ? { HUITIAN_TOKENS: TOKENS_ENV } : {}),
    ...options.env,
  };
  const config = loadConfig(env, options.overrides ?? {});
  const clock = options.clock ?? new ManualClock();
  const service = await createService(config, { logger: createLogger('silent'), wallClock: clock.now, consoleDir: options.consoleDir });
  const nonConforming: string[] = [];
  checkEveryAnswer(service.app, nonConforming);
  let stopped = false;
  const ts: TestService = {
    service,
    app: service.app,
    config,
    dataDir,
    clock,
    nonConforming,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop();
    },
  };
  running.push(ts);
  return ts;
}
const running: TestService[] = [];

/**
 * Registers the hooks that stop every service a test started, check that their answers
 * were all declared in the OpenAPI document, and remove the temp dirs: after each test,
 * or (`'file'`) once after the file, for a service shared by its tests.
 */
export function useServiceCleanup(scope: 'test' | 'file' = 'test'): void {
  const stopAll = async () => {
    const services = running.splice(0);
    for (const s of services) await s.stop();
    const problems = services.flatMap((s) => s.nonConforming);
    expect(problems, 'answers that the OpenAPI document does not declare').toEqual([]);
  };
  if (scope === 'test') afterEach(stopAll);
  afterAll(async () => {
    if (scope === 'file') await stopAll();
    for (const dir of createdDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Patterns that would show a stack trace or a source path in an answer. */
const LEAKS = [/\n\s+at /, /\bat [\w.<>]+ \(/, /\/work\//, /node_modules/, /\.[cm]?[jt]s:\d+/, /file:\/\//];

export function assertNoLeak(body: string): void {
  for (const p of LEAKS) expect(body, `response leaks ${p}`).not.toMatch(p);
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  contentType?: string;
}

export async function call(app: FastifyInstance, method: 'GET' | 'POST', url: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.contentType !== undefined) {
    headers['content-type'] = options.contentType;
  }
  const res = await app.inject({ method, url, headers, payload });
  assertNoLeak(res.body);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: res.body, json };
}

export const get = (app: FastifyInstance, url: string, options: RequestOptions = {}) => call(app, 'GET', url, options);
export const post = (app: FastifyInstance, url: string, options: RequestOptions = {}) => call(app, 'POST', url, options);

/** POSTs events as NDJSON (what `huitian replay` sends). */
export function postEvents(app: FastifyInstance, events: readonly unknown[], token?: string): Promise<Answer> {
  return post(app, '/v1/events', {
    token,
    contentType: 'application/x-ndjson',
    body: events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n',
  });
}

/** Asserts the `{error:{code, message, details?}}` shape and returns the error. */
export function expectError(answer: Answer, status: number, code: string): { code: string; message: string; details?: unknown } {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
  const error = answer.json.error;
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k))).toEqual([]);
  return error;
}

/** Query-string value for an instant. */
export function q(text: string): string {
  return encodeURIComponent(text);
}
