/**
 * Configuration: defaults, the order file < environment < flags, every problem listed at
 * once naming its key, the config file with `rules`, and rules reaching the running service.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, loadConfig, MIN_TOKEN_LENGTH, type ConfigOverrides } from '../../src/config.js';
import { HuitianError } from '../../src/errors.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { get, postEvents, startTestService, tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

/** The problems loadConfig lists, or fails when it accepts the configuration. */
function problems(env: Record<string, string>, overrides: ConfigOverrides = {}): string[] {
  try {
    loadConfig(env, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(HuitianError);
    const e = err as HuitianError;
    expect(e.code).toBe('CONFIG_INVALID');
    const list = e.details as string[];
    // The message lists every problem too (what `huitian serve` prints before exiting).
    for (const p of list) expect(e.message).toContain(p);
    return list;
  }
  throw new Error('loadConfig accepted the configuration');
}

function configFile(content: unknown): string {
  const file = join(tempDir(), 'huitian.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('has defaults for everything and freezes the result', () => {
    const c = loadConfig({});
    expect({
      host: c.host,
      port: c.port,
      dataDir: c.dataDir,
      timeMode: c.timeMode,
      latenessS: c.latenessS,
      logLevel: c.logLevel,
      fireClockStart: c.fireClockStart,
      bodyLimitBytes: c.bodyLimitBytes,
      ingestRateLimit: c.ingestRateLimit,
      tokens: c.tokenRoles.size,
      configFile: c.configFile,
      kafkaBrokers: c.kafkaBrokers,
    }).toEqual({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './data',
      timeMode: 'live',
      latenessS: 60,
      logLevel: 'info',
      fireClockStart: 'dispatched',
      bodyLimitBytes: 10 * 1024 * 1024,
      ingestRateLimit: 60_000,
      tokens: 0,
      configFile: null,
      kafkaBrokers: [],
    });
    expect(c.rules.waterlogging).toEqual({ yellowCm: 15, orangeCm: 27, redCm: 40, clearBelowCm: 10 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads HUITIAN_* variables, parses them to their types, and treats an empty one as unset', () => {
    const c = loadConfig({
      HUITIAN_HOST: '::1',
      HUITIAN_PORT: '9090',
      HUITIAN_DATA_DIR: '/var/lib/huitian',
      HUITIAN_TIME_MODE: 'replay',
      HUITIAN_LATENESS_S: '0',
      HUITIAN_LOG_LEVEL: 'warn',
      HUITIAN_TOKENS: ' operator:s3cret-op , viewer:abcdefgh ',
      HUITIAN_KAFKA_BROKERS: 'k1:9092, k2:9092',
      HUITIAN_INGEST_RATE_LIMIT: '',
    });
    expect([c.host, c.port, c.dataDir, c.timeMode, c.latenessS, c.logLevel, c.ingestRateLimit]).toEqual([
      '::1',
      9090,
      '/var/lib/huitian',
      'replay',
      0,
      'warn',
      60_000,
    ]);
    expect([...c.tokenRoles]).toEqual([
      ['s3cret-op', 'operator'],
      ['abcdefgh', 'viewer'],
    ]);
    expect(c.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
  });

  it.each([
    ['HUITIAN_PORT', 'abc'],
    ['HUITIAN_PORT', '70000'],
    ['HUITIAN_PORT', '80.5'],
    ['HUITIAN_PORT', ' '],
    ['HUITIAN_PORT', '0x1F90'],
    ['HUITIAN_TIME_MODE', 'sometimes'],
    ['HUITIAN_LATENESS_S', '-1'],
    ['HUITIAN_LOG_LEVEL', 'loud'],
    ['HUITIAN_FIRE_CLOCK_START', 'arrived'],
    ['HUITIAN_BODY_LIMIT_BYTES', '100'],
    ['HUITIAN_SQLITE_SYNC', 'off'],
    ['HUITIAN_INSTANCE_ID', 'a b'],
    ['HUITIAN_IDLE_TIMEOUT_S', '0'],
  ])('stops on %s=%j with a message naming the key', (key, value) => {
    const list = problems({ [key]: value });
    expect(list).toHaveLength(1);
    expect(list[0]!.startsWith(`${key}: `), list[0]).toBe(true);
    expect(list[0]!.endsWith(` (got ${JSON.stringify(value)})`), list[0]).toBe(true);
  });

  it('bounds future event times by mode: 600 s ahead of the wall clock live, 24 h ahead of the stream in replay, unless set', () => {
    expect(loadConfig({}).maxFutureS).toBe(600);
    expect(loadConfig({ HUITIAN_TIME_MODE: 'replay' }).maxFutureS).toBe(86_400);
    expect(loadConfig({ HUITIAN_TIME_MODE: 'replay', HUITIAN_MAX_FUTURE_S: '60' }).maxFutureS).toBe(60);
    expect(loadConfig({}, { timeMode: 'replay' }).maxFutureS).toBe(86_400);
    expect(configTableMarkdown()).toContain('| `HUITIAN_MAX_FUTURE_S` | `--max-future-s` | `600` live, `86400` replay |');
  });

  it('names the token problem: an unknown role, a short token, a token given twice', () => {
    expect(problems({ HUITIAN_TOKENS: 'superuser:abcdefgh12' })).toEqual([
      'HUITIAN_TOKENS: unknown role "superuser" (roles: viewer, operator, ingest, admin)',
    ]);
    expect(problems({ HUITIAN_TOKENS: 'viewer:abc' })).toEqual(['HUITIAN_TOKENS: the viewer token has 3 characters; a token needs at least 8']);
    expect(problems({ HUITIAN_TOKENS: 'viewer' })).toEqual(['HUITIAN_TOKENS: the viewer entry has no token: write viewer:<token>, the token at least 8 characters']);
    // The README table says so too.
    expect(configTableMarkdown()).toMatch(/^\| `HUITIAN_TOKENS` \|.*each token at least 8 characters/m);
    expect(problems({ HUITIAN_TOKENS: 'viewer:abcdefgh,admin:abcdefgh' })).toEqual(['HUITIAN_TOKENS: a token is given twice']);
    expect(problems({ HUITIAN_TOKENS: 'viewer:abcd efgh' })).toEqual(['HUITIAN_TOKENS: the viewer token contains whitespace, which a bearer token cannot carry']);
    expect(problems({ HUITIAN_TOKENS: 'operator::abcdefgh' })).toEqual(['HUITIAN_TOKENS: the operator entry has an empty name; write operator:<name>:<token> or operator:<token>']);
    expect(problems({ HUITIAN_TOKENS: 'operator:张伟:abc' })).toEqual(['HUITIAN_TOKENS: the operator token of "张伟" has 3 characters; a token needs at least 8']);
    expect(problems({ HUITIAN_TOKENS: `operator:${'名'.repeat(65)}:abcdefgh` })).toHaveLength(1);
    // Spaces around the role or the token are layout, not part of them.
    expect([...loadConfig({ HUITIAN_TOKENS: 'viewer : abcdefgh , admin:  12345678' }).tokenRoles]).toEqual([
      ['abcdefgh', 'viewer'],
      ['12345678', 'admin'],
    ]);
  });

  it('reads named tokens (role:name:token) beside unnamed ones (role:token)', () => {
    const c = loadConfig({ HUITIAN_TOKENS: 'operator:值班员张伟:op-zhang-1234, viewer:abcdefgh, admin : 大屏 : a:b:c:d:e:f' });
    expect([...c.tokenIdentities]).toEqual([
      ['op-zhang-1234', { role: 'operator', name: '值班员张伟' }],
      ['abcdefgh', { role: 'viewer', name: 'viewer' }],
      // After the name, the rest is the token, colons and all.
      ['a:b:c:d:e:f', { role: 'admin', name: '大屏' }],
    ]);
    expect([...c.tokenRoles]).toEqual([
      ['op-zhang-1234', 'operator'],
      ['abcdefgh', 'viewer'],
      ['a:b:c:d:e:f', 'admin'],
    ]);
    expect(MIN_TOKEN_LENGTH).toBe(8);
  });

  it('takes HUITIAN_TIMEZONE as an IANA zone, Asia/Shanghai by default', () => {
    expect(loadConfig({}).timeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ HUITIAN_TIMEZONE: 'UTC' }).timeZone).toBe('UTC');
    expect(problems({ HUITIAN_TIMEZONE: 'Beijing' })).toEqual(['HUITIAN_TIMEZONE: must be an IANA time zone name, e.g. Asia/Shanghai or UTC (got "Beijing")']);
  });

  it('lists every problem at once', () => {
    const list = problems({
      HUITIAN_PORT: 'abc',
      HUITIAN_TIME_MODE: 'sometimes',
      HUITIAN_LATENESS_S: '-1',
      HUITIAN_TOKENS: 'root:abcdefgh12',
      HUITIAN_HOST: '0.0.0.0',
    });
    expect(list.map((p) => p.slice(0, p.indexOf(':')))).toEqual(['HUITIAN_PORT', 'HUITIAN_TIME_MODE', 'HUITIAN_LATENESS_S', 'HUITIAN_TOKENS', 'HUITIAN_HOST']);
  });

  it('names the flag when a flag is wrong, and flags win over variables', () => {
    expect(problems({ HUITIAN_PORT: '9090' }, { port: 'abc' })).toEqual([expect.stringMatching(/^--port: /)]);
    expect(loadConfig({ HUITIAN_PORT: '9090' }, { port: '9191' }).port).toBe(9191);
    expect(loadConfig({ HUITIAN_PORT: 'abc' }, { port: '9191' }).port).toBe(9191);
  });
});

describe('config file (HUITIAN_CONFIG)', () => {
  it('sets keys and rules; variables win over the file and flags over both', () => {
    const file = configFile({
      port: 9300,
      latenessS: 30,
      timeMode: 'replay',
      rules: { waterlogging: { yellowCm: 20, orangeCm: 30, redCm: 50, clearBelowCm: 12 }, parking: { forSeconds: 600 } },
    });
    const c = loadConfig({ HUITIAN_CONFIG: file, HUITIAN_LATENESS_S: '45' });
    expect([c.port, c.latenessS, c.timeMode, c.configFile]).toEqual([9300, 45, 'replay', file]);
    expect(c.rules.waterlogging).toEqual({ yellowCm: 20, orangeCm: 30, redCm: 50, clearBelowCm: 12 });
    // Sections and keys not given keep their defaults.
    expect(c.rules.parking).toEqual({ fullRatio: 0.95, forSeconds: 600, clearBelowRatio: 0.9 });
    expect(c.rules.gas).toEqual({ orangePct: 20, redPct: 50, clearBelowPct: 10 });
    expect(loadConfig({ HUITIAN_CONFIG: file }, { port: '9400' }).port).toBe(9400);
    // --config (a flag) names the file as HUITIAN_CONFIG does.
    expect(loadConfig({}, { config: file } as ConfigOverrides).port).toBe(9300);
  });

  it('names the file and key of a bad value, and every invalid rule', () => {
    const file = configFile({
      port: 'eighty',
      rules: { waterlogging: { yellowCm: 20, orangeCm: 18 }, gas: { orangePct: -5 }, kpiBreach: { target: 80 } },
    });
    const list = problems({ HUITIAN_CONFIG: file });
    expect(list[0]).toBe(`${file} key "port": must be a whole number (got "eighty")`);
    // Every rule problem is listed, the ordering checks too.
    expect(list.slice(1).sort()).toEqual([
      'rules.gas.clearBelowPct: must not exceed orangePct (hysteresis)',
      'rules.gas.orangePct: Too small: expected number to be >=0',
      'rules.kpiBreach.target: Too big: expected number to be <=1',
      'rules.waterlogging.orangeCm: must be greater than yellowCm',
    ]);
    expect(problems({ HUITIAN_CONFIG: configFile({ rules: { gas: { orangePct: 20, redPct: 30, clearBelowPct: 25 } } }) })).toEqual([
      'rules.gas.clearBelowPct: must not exceed orangePct (hysteresis)',
    ]);
    expect(problems({ HUITIAN_CONFIG: configFile({ rules: { parking: { fullRatio: 'high' } } }) })).toEqual([
      expect.stringMatching(/^rules\.parking\.fullRatio: /),
    ]);
  });

  it('refuses a file that is missing, not JSON, not an object, or has an unknown key', () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.json');
    expect(problems({ HUITIAN_CONFIG: missing })).toEqual([expect.stringMatching(new RegExp(`^HUITIAN_CONFIG \\(${missing.replace(/[.]/g, '\\.')}\\): ENOENT`))]);
    expect(problems({ HUITIAN_CONFIG: configFile('{ "port": ') })).toEqual([expect.stringMatching(/^HUITIAN_CONFIG \(.+\): .*JSON/)]);
    expect(problems({ HUITIAN_CONFIG: configFile([1, 2]) })).toEqual([expect.stringMatching(/^HUITIAN_CONFIG \(.+\): not a JSON object$/)]);
    expect(problems({ HUITIAN_CONFIG: configFile('null') })).toEqual([expect.stringMatching(/^HUITIAN_CONFIG \(.+\): not a JSON object$/)]);
    expect(problems({ HUITIAN_CONFIG: configFile({ prot: 9090 }) })).toEqual([expect.stringMatching(/^HUITIAN_CONFIG \(.+\): unknown key "prot" \(keys: host, port, /)]);
  });

  it('applies the rules of the file in the running service', async () => {
    const file = configFile({ rules: { waterlogging: { yellowCm: 20, orangeCm: 30, redCm: 50, clearBelowCm: 12 } } });
    const { app } = await startTestService({ env: { HUITIAN_CONFIG: file } });
    // 18 cm is below the configured yellow (20), 29 cm below orange (30), 13 cm not below the clear level.
    await postEvents(app, [waterlogging('c1', 0, 'P1', 18, HLG), waterlogging('c2', 10, 'P2', 29, HLG), waterlogging('c3', 20, 'P2', 13, HLG)]);
    const alerts = (await get(app, '/v1/alerts')).json.items as Array<{ entityId: string; severity: string; status: string; threshold: number }>;
    expect(alerts.map((a) => [a.entityId, a.severity, a.status, a.threshold])).toEqual([['P2', 'yellow', 'open', 20]]);
    await postEvents(app, [waterlogging('c4', 30, 'P2', 11, HLG)]);
    expect((await get(app, '/v1/alerts?status=resolved')).json.items.map((a: { entityId: string }) => a.entityId)).toEqual(['P2']);
  });
});
