/**
 * Cluster mode's JetStream bridge (docs/cluster.md §6): a batch whose valid events Kafka
 * does not take at first is retried until it does, and its refused records are
 * dead-lettered once — a retry used to dead-letter them again.
 */
import { describe, expect, it } from 'vitest';
import { bridgeBatch, type KafkaBridge } from '../../src/nats/nats-source.js';
import type { Candidate, Rejection } from '../../src/pipeline/pipeline.js';
import { decodeEvent } from '../../src/events/decode.js';

const event = (id: string) => {
  const raw = JSON.stringify({ specversion: '1.0', id, source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: '2026-07-21T08:15:00+08:00', data: { pointId: 'HLG-001', depthCm: 3 } });
  const decoded = decodeEvent(JSON.parse(raw));
  if (!decoded.ok) throw new Error(decoded.reason);
  return { index: 0, event: decoded.event, raw } satisfies Candidate;
};

describe('bridging a JetStream batch into Kafka', () => {
  it('dead-letters the refused records once however often the produce is retried', async () => {
    const letters: Array<[string, Rejection[]]> = [];
    let attempts = 0;
    const bridge: KafkaBridge = {
      deadLetter: async (channel, rs) => {
        letters.push([channel, [...rs]]);
      },
      produce: async () => {
        attempts++;
        if (attempts < 3) throw new Error('Kafka is away');
        return [];
      },
    };
    const refused: Rejection = { index: 1, id: 'bad-1', type: null, reason: '(event): not JSON', raw: '{' };
    const waits: number[] = [];
    await bridgeBatch(bridge, 'nats:HUITIAN_EVENTS', [event('e-1')], [refused], (_err, wait) => waits.push(wait), async () => undefined);
    expect(attempts).toBe(3);
    expect(waits).toEqual([250, 500]);
    expect(letters).toEqual([['nats:HUITIAN_EVENTS', [refused]]]);
  });

  it('dead-letters, after Kafka took the rest, the events no input topic carries', async () => {
    const letters: Rejection[][] = [];
    const unrouted: Rejection = { index: 0, id: 'e-2', type: 'huitian.waterlogging.reading', reason: 'type: no configured input topic carries huitian.waterlogging.reading', raw: '{}' };
    const bridge: KafkaBridge = {
      deadLetter: async (_c, rs) => {
        letters.push([...rs]);
      },
      produce: async () => [unrouted],
    };
    await bridgeBatch(bridge, 'nats:S', [event('e-2')], [], () => undefined);
    expect(letters).toEqual([[unrouted]]);
  });
});
