/**
 * Cluster outputs are produced in requests below the broker's message limit: a batch of a
 * gauge partition's readings once made partials over 1 MiB for one partition, and the
 * write failed (the broker refuses a record batch above `message.max.bytes`).
 */
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { REQUEST_BYTES, requestsOf } from '../../src/cluster/cluster-runtime.js';

const msg = (key: string, bytes: number): Message => ({ key, value: 'x'.repeat(bytes) });

describe('requestsOf', () => {
  it('cuts messages into requests of at most the limit, keeping every message and its order per topic', () => {
    const partials = Array.from({ length: 5000 }, (_, i) => msg(`p${i}`, 300));
    const alerts = Array.from({ length: 50 }, (_, i) => ({ key: `a${i}`, value: JSON.stringify({ title: '积水点水深超过红色预警'.repeat(200) }) }));
    const requests = requestsOf([{ topic: 'G.partials', messages: partials }, { topic: 'G.alerts', messages: alerts }]);
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) {
      const bytes = r.flatMap((t) => t.messages).reduce((n, m) => n + Buffer.byteLength(String(m.key)) + Buffer.byteLength(String(m.value)), 0);
      expect(bytes).toBeLessThanOrEqual(REQUEST_BYTES);
    }
    const of = (topic: string) => requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages));
    expect(of('G.partials')).toEqual(partials);
    expect(of('G.alerts')).toEqual(alerts);
  });

  it('sends a message larger than the limit alone, and nothing for nothing', () => {
    const big = msg('big', REQUEST_BYTES + 1);
    expect(requestsOf([{ topic: 't', messages: [msg('a', 10), big, msg('b', 10)] }]).map((r) => r[0]!.messages.map((m) => m.key))).toEqual([['a'], ['big'], ['b']]);
    expect(requestsOf([])).toEqual([]);
  });
});
