/** The `notifications` config section: defaults, and every problem named by its path at start-up. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { HuitianError } from '../../src/errors.js';
import { tempDir } from '../helpers/service.js';

function load(notifications: unknown) {
  const file = join(tempDir(), 'c.json');
  writeFileSync(file, JSON.stringify({ notifications }));
  return loadConfig({ HUITIAN_CONFIG: file });
}

describe('notifications config', () => {
  it('has defaults: no routes, group wait 30 s by category and district, CAP issuer 110114', () => {
    const c = load({ receivers: { d: { type: 'webhook', url: 'http://127.0.0.1:9/x' } }, routes: [{ name: 'r', receivers: ['d'] }] });
    expect(c.notifications.routes[0]).toMatchObject({ groupWaitSeconds: 30, groupBy: ['category', 'district'], continue: false, match: {} });
    expect(c.notifications.cap).toMatchObject({ issuerCode: '11011400000000', areaCode: '110114', status: 'Actual' });
    expect(loadConfig({}).notifications.routes).toEqual([]);
  });

  it('lists every problem with its path', () => {
    let error: HuitianError | undefined;
    try {
      load({
        receivers: { d: { type: 'webhook', url: 'ftp://x', secret: 'short' }, n: { type: 'nats', subject: 'a.>' } },
        routes: [
          { name: 'r', receivers: ['nope'], match: { severity: 'purple' } },
          { name: 'r', receivers: ['d'] },
        ],
        escalation: { red: { afterMinutes: 5, route: 'missing' } },
        cap: { issuerCode: '110114' },
        extra: 1,
      });
    } catch (err) {
      error = err as HuitianError;
    }
    expect(error?.code).toBe('CONFIG_INVALID');
    const text = (error!.details as string[]).join('\n');
    for (const path of ['notifications.receivers.d.url', 'notifications.receivers.d.secret', 'notifications.receivers.n.subject', 'notifications.routes.0.match.severity', 'notifications.cap.issuerCode', '"extra"']) {
      expect(text).toContain(path);
    }
  });

  it('checks the names routes and policies refer to', () => {
    let error: HuitianError | undefined;
    try {
      load({ receivers: { d: { type: 'webhook', url: 'http://127.0.0.1:9/' } }, routes: [{ name: 'r', receivers: ['nope'] }, { name: 'r', receivers: ['d'] }], escalation: { red: { afterMinutes: 5, route: 'x' } } });
    } catch (err) {
      error = err as HuitianError;
    }
    const text = (error!.details as string[]).join('\n');
    expect(text).toContain('notifications.routes.0.receivers.0: no receiver named "nope"');
    expect(text).toContain('notifications.routes.1.name: route "r" is named twice');
    expect(text).toContain('notifications.escalation.red.route: no route named "x"');
  });
});

describe('notifications with Kafka', () => {
  it('are taken in cluster mode (the global stage delivers them, docs/cluster.md §10) and in single mode', () => {
    const file = join(tempDir(), 'c.json');
    writeFileSync(file, JSON.stringify({ notifications: { receivers: { d: { type: 'webhook', url: 'http://127.0.0.1:9/x' } }, routes: [{ name: 'r', receivers: ['d'] }] } }));
    expect(loadConfig({ HUITIAN_CONFIG: file, HUITIAN_KAFKA_BROKERS: '127.0.0.1:9092' }).notifications.routes).toHaveLength(1);
    expect(loadConfig({ HUITIAN_CONFIG: file, HUITIAN_KAFKA_BROKERS: '127.0.0.1:9092', HUITIAN_KAFKA_MODE: 'single' }).notifications.routes).toHaveLength(1);
    expect(loadConfig({ HUITIAN_KAFKA_BROKERS: '127.0.0.1:9092' }).kafkaMode).toBe('cluster');
  });
});

describe('the README example', () => {
  it('docs/examples/notifications.json is a valid configuration', () => {
    const c = loadConfig({ HUITIAN_CONFIG: 'docs/examples/notifications.json' });
    expect(c.notifications.routes.map((r) => r.name)).toEqual(['flood-duty', 'public-warning', 'work-orders', '值班长']);
    expect(c.notifications.escalation.red).toEqual({ afterMinutes: 5, route: '值班长', repeatMinutes: 10 });
  });
});
