/**
 * CAP 1.2 / GB/T 35965.1 (issue 12): every rule's alert, in every transition, rendered as
 * a CAP message, is valid against schemas/cap/CAP-v1.2.xsd by a real XML schema validator
 * (libxml2's xmllint; .ci/run installs Debian's libxml2-utils), and says what the alert says.
 * The HTTP routes: Accept negotiation on GET /v1/alerts/:id, /cap, and the Atom feed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { versionOf, type AlertChange } from '../../src/alerts/alert.js';
import { beijingCapTime } from '../../src/cap/identifier.js';
import { capRenderer } from '../../src/delivery/cap-render.js';
import { DEFAULT_NOTIFICATIONS } from '../../src/notifications/notifications-config.js';
import { openDatabase } from '../../src/sqlite/database.js';
import { EmbeddedStore } from '../../src/sqlite/embedded-store.js';
import { core, HLG, ms, waterlogging } from '../helpers/events.js';
import { engineConfig, EngineRun } from '../helpers/engine-run.js';
import { get, startTestService, tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const XSD = resolve('schemas/cap/CAP-v1.2.xsd');
const ATOM_NS = 'http://www.w3.org/2005/Atom';

function hasXmllint(): boolean {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Validates files against the XSD; returns xmllint's complaints (empty when all are valid). */
function validate(files: string[]): string {
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, ...files], { stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err);
  }
}

/** The text of the first element named `name` inside `scope` (small messages, no namespaces prefixes). */
function text(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

function infos(xml: string): string[] {
  return [...xml.matchAll(/<info>[\s\S]*?<\/info>/g)].map((m) => m[0]);
}

/** Alert changes of every rule: opened, escalated, acknowledged, reopened, resolved. */
function everyRule(): AlertChange[] {
  const run = new EngineRun(engineConfig({ timeMode: 'live' }));
  const W = 1_900_000_000_000;
  run.now = W;
  run.feed([core.depth(0, 'P1', 16, { district: HLG, name: '回龙观东大街桥下', lat: 40.0712, lon: 116.3368 })], 'http', true);
  run.feed([core.depth(30, 'P1', 31), core.depth(60, 'P1', 44.5), core.gas(0, 'G1', 25, { district: HLG }), core.gas(40, 'G1', 55)], 'http', true);
  run.feed([core.alarm(10, 'W1', 'LEAK', 'raised', { level: 'orange', district: HLG, message: '管道压力骤降 <紧急> & 漏水' })], 'http', true);
  run.feed([core.received(0, 'F1', 'fire', HLG), core.dispatched(0, 'F1', 'U1', '回龙观站')], 'http', true);
  // kpi_breach: ten more fire incidents decided, three missed.
  const incidents = [];
  for (let i = 0; i < 10; i++) {
    incidents.push(core.received(i * 60 + 1, `K${i}`, 'fire', HLG), core.dispatched(i * 60 + 1, `K${i}`, 'U', 'S1'));
    if (i >= 3) incidents.push(core.arrived(i * 60 + 101, `K${i}`, 'U'));
  }
  run.feed([...incidents].sort((a, b) => a.time - b.time), 'http', true);
  run.feed([core.lot(700, 'L1', 790, 800, { district: HLG, name: '龙域停车场' }), core.lot(720, 'L1', 795, 800)], 'http', true);
  run.tick(W + 800_000);
  run.tick(W + 1_500_000); // sensor_silence for P1; dispatch_overdue for F1
  const breach = run.changes.find((c) => c.alert.rule === 'kpi_breach');
  const p1 = run.changes.find((c) => c.alert.rule === 'waterlogging_depth')!.alert.id;
  // Acknowledged until 2300 s (the stream clock is then 2220 s): lapses before the resolutions.
  const ack = run.engine.acknowledge(p1, '张伟', '已派排水车', W + 1_500_000, ms(2300));
  if (ack.ok) run.changes.push(...ack.step.alerts);
  run.acknowledge(breach!.alert.id, '值班长');
  run.feed([core.depth(2400, 'P1', 2), core.gas(2400, 'G1', 1), core.alarm(2400, 'W1', 'LEAK', 'cleared'), core.lot(2400, 'L1', 100, 800), core.arrived(2400, 'F1', 'U1')], 'http', true);
  return run.changes;
}

describe('CAP 1.2 messages', () => {
  let changes: AlertChange[];
  let store: EmbeddedStore;
  let render: ReturnType<typeof capRenderer>;
  const dir = tempDir('huitian-cap-');

  beforeAll(() => {
    changes = everyRule();
    store = new EmbeddedStore(openDatabase(join(dir, 'db')));
    store.commit({ log: null, partials: [], alerts: changes, deadLetters: [] });
    render = capRenderer(store, DEFAULT_NOTIFICATIONS.cap, 'Actual');
  });

  it('covers every rule and every kind of transition', () => {
    expect(new Set(changes.map((c) => c.alert.rule))).toEqual(
      new Set(['waterlogging_depth', 'gas_leak', 'utility_alarm', 'parking_full', 'dispatch_overdue', 'sensor_silence', 'kpi_breach']),
    );
    expect(new Set(changes.map((c) => c.action))).toEqual(new Set(['opened', 'escalated', 'acknowledged', 'reopened', 'resolved']));
  });

  it.runIf(hasXmllint() || process.env.CI === 'true')('is valid against the CAP 1.2 schema for every transition of every rule (xmllint)', () => {
    const out = join(dir, 'messages');
    mkdirSync(out, { recursive: true });
    const files = changes.map((c, i) => {
      const file = join(out, `${i}-${c.alert.rule}-${c.action}.xml`);
      writeFileSync(file, render(c.alert));
      return file;
    });
    expect(validate(files)).toBe('');
  });

  it('says what the alert says (GB/T 35965.1 identifier, Beijing time, msgType, references, severities, area)', () => {
    const seen = new Set<string>();
    const previous = new Map<string, string>();
    for (const c of changes) {
      const a = c.alert;
      const xml = render(a);
      const identifier = text(xml, 'identifier')!;
      expect(identifier).toMatch(/^11011400000000_\d{14}_\d+$/);
      expect(seen.has(identifier)).toBe(false);
      seen.add(identifier);
      expect(text(xml, 'sent')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
      // The identifier's time is the sent time, in Beijing time.
      expect(identifier.split('_')[1]).toBe(text(xml, 'sent')!.slice(0, 19).replace(/[-T:]/g, ''));
      expect(text(xml, 'status')).toBe('Actual');
      expect(text(xml, 'scope')).toBe('Public');
      expect(text(xml, 'msgType')).toBe(a.status === 'resolved' ? 'Cancel' : versionOf(a) === 1 ? 'Alert' : 'Update');
      const ref = previous.get(a.id);
      if (ref === undefined) expect(text(xml, 'references')).toBeUndefined();
      else expect(text(xml, 'references')).toBe(ref);
      previous.set(a.id, `huitian-brain@110114,${identifier},${text(xml, 'sent')}`);
      expect(text(xml, 'incidents')).toBe(a.id);
      const [zh, en] = infos(xml);
      expect(text(zh!, 'language')).toBe('zh-CN');
      expect(text(en!, 'language')).toBe('en-US');
      const sev = { blue: 'Minor', yellow: 'Moderate', orange: 'Severe', red: 'Extreme' }[a.severity];
      for (const i of [zh!, en!]) {
        expect(text(i, 'severity')).toBe(sev);
        expect(text(i, 'urgency')).toBe(a.status === 'resolved' ? 'Past' : 'Immediate');
        expect(text(i, 'certainty')).toBe('Observed');
        expect(text(i, 'effective')).toBe(beijingCapTime(a.openedAt));
        expect(i).toContain(`<areaDesc>${a.district} · ${a.entityId}</areaDesc>`);
        expect(i).toContain('<valueName>GB/T 2260</valueName>');
        expect(i).toContain('<value>110114</value>');
      }
      const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      expect(unescape(text(zh!, 'headline')!)).toBe(a.status === 'resolved' ? `解除：${a.title}` : a.title);
      expect(unescape(text(en!, 'headline')!)).toBe(a.status === 'resolved' ? `Cancelled: ${a.titleEn}` : a.titleEn);
      if (a.location != null) expect(zh).toContain(`<circle>${a.location.lat},${a.location.lon} 0.1</circle>`);
    }
    // Rendering again gives the same identifiers (they are stored per alert version).
    for (const c of changes.slice(0, 5)) expect(text(render(c.alert), 'identifier')).toBe(text(render(c.alert), 'identifier'));
  });
});

describe('CAP over HTTP', () => {
  it('GET /v1/alerts/:id with Accept: application/cap+xml, /v1/alerts/:id/cap, and the Atom feed of active alerts', async () => {
    const ts = await startTestService();
    const { postEvents } = await import('../helpers/service.js');
    await postEvents(ts.app, [waterlogging('a', 0, 'P1', 45, HLG), waterlogging('b', 10, 'P2', 20, HLG), waterlogging('c', 20, 'P2', 3, HLG)]);
    const p1 = (await get(ts.app, '/v1/alerts?entityId=P1')).json.items[0];
    const byAccept = await get(ts.app, `/v1/alerts/${p1.id}`, { headers: { accept: 'application/cap+xml' } });
    expect(byAccept.headers['content-type']).toBe('application/cap+xml; charset=utf-8');
    const direct = await get(ts.app, `/v1/alerts/${p1.id}/cap`);
    expect(direct.body).toBe(byAccept.body);
    expect(text(direct.body, 'msgType')).toBe('Alert');
    expect((await get(ts.app, `/v1/alerts/${p1.id}`, { headers: { accept: 'application/json, application/cap+xml;q=0.5' } })).json.id).toBe(p1.id);
    expect((await get(ts.app, '/v1/alerts/al_nope/cap')).json.error.code).toBe('ALERT_NOT_FOUND');
    const feed = await get(ts.app, '/v1/alerts/cap');
    expect(feed.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(feed.body).toContain(`<feed xmlns="${ATOM_NS}">`);
    const entries = [...feed.body.matchAll(/<entry>[\s\S]*?<\/entry>/g)].map((m) => m[0]);
    // Only the active alert: P2 resolved.
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain(`href="/v1/alerts/${p1.id}/cap"`);
    expect(entries[0]).toContain(`<id>urn:huitian:cap:${text(direct.body, 'identifier')}</id>`);
    if (hasXmllint() || process.env.CI === 'true') {
      const file = join(tempDir('huitian-cap-'), 'm.xml');
      writeFileSync(file, direct.body);
      expect(validate([file])).toBe('');
      const feedFile = join(tempDir('huitian-cap-'), 'feed.xml');
      writeFileSync(feedFile, feed.body);
      execFileSync('xmllint', ['--noout', feedFile]);
    }
  });
});

describe('the XSD itself', () => {
  it.runIf(hasXmllint() || process.env.CI === 'true')('rejects what CAP 1.2 forbids (so the validation above can fail)', () => {
    const dir2 = tempDir('huitian-cap-bad-');
    const good = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>X_1</identifier><sender>s@x</sender><sent>2026-07-21T08:00:00+08:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><category>Met</category><event>e</event><urgency>Immediate</urgency><severity>Extreme</severity><certainty>Observed</certainty></info></alert>`;
    const cases: Record<string, string> = {
      good,
      fraction: good.replace('08:00:00+08:00', '08:00:00.000+08:00'),
      zulu: good.replace('08:00:00+08:00', '00:00:00Z'),
      order: good.replace('<status>Actual</status><msgType>Alert</msgType>', '<msgType>Alert</msgType><status>Actual</status>'),
      severity: good.replace('Extreme', 'Red'),
      comma: good.replace('X_1', 'X,1'),
      noInfoCategory: good.replace('<category>Met</category>', ''),
    };
    const files = Object.fromEntries(
      Object.entries(cases).map(([k, v]) => {
        const f = join(dir2, `${k}.xml`);
        writeFileSync(f, v);
        return [k, f];
      }),
    );
    expect(validate([files.good!])).toBe('');
    for (const k of Object.keys(cases).filter((k) => k !== 'good')) expect(validate([files[k]!]), k).not.toBe('');
  });
});
