/**
 * The recovery log keeps an NDJSON request as received (a JSON header line, then the text
 * or the bytes) instead of re-encoding its events; a restart decodes it again. Other
 * entries stay JSON, and logs written before this format still read.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../../src/engine/engine.js';
import { decodeJson } from '../../src/events/decode.js';
import type { HuitianEvent } from '../../src/events/schemas.js';
import { applyEntry } from '../../src/pipeline/pipeline.js';
import type { LogEntry } from '../../src/ports.js';
import { openDatabase } from '../../src/sqlite/database.js';
import { decodeLogEntry, EmbeddedStore, encodeLogEntry } from '../../src/sqlite/embedded-store.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

const lines = [
  JSON.stringify(waterlogging('w1', 0, 'P1', 12, HLG)),
  '',
  'not json',
  `  ${JSON.stringify(waterlogging('w2', 60, 'P1', 31, HLG))}\r`,
  JSON.stringify(waterlogging('bad', 61, 'P2', -4, HLG)),
  JSON.stringify(waterlogging('w3', 200, 'P1', 3, HLG)),
];
const ndjson = `${lines.join('\n')}\n`;

describe('recovery log entries', () => {
  it('round-trip through their stored text, NDJSON kept as received', () => {
    const bytes = Buffer.from(ndjson);
    const entries: LogEntry[] = [
      { kind: 'events-ndjson', channel: 'http', now: 5, idleAfter: true, ndjson },
      { kind: 'events-ndjson', channel: 'http', now: 6, idleAfter: false, ndjson: bytes },
      { kind: 'tick', now: 7 },
      { kind: 'ack', alertId: 'al_1', by: '张伟\n值班', note: 'a\nb', now: 9 },
    ];
    for (const entry of entries) expect(decodeLogEntry(encodeLogEntry(entry))).toEqual(entry);
    expect(String(encodeLogEntry(entries[0]!)).endsWith(ndjson)).toBe(true);
    expect(Buffer.from(encodeLogEntry(entries[1]!)).subarray(-bytes.length).equals(bytes)).toBe(true);
  });

  it('an NDJSON entry replays the same engine step as the decoded events would', () => {
    const events = lines.map((l) => decodeJson(l)).flatMap((d) => (d.ok ? [d.event] : [])) as HuitianEvent[];
    expect(events.map((e) => e.id)).toEqual(['w1', 'w2', 'w3']);
    const config = { ...DEFAULT_ENGINE_CONFIG, timeMode: 'replay' as const };
    const fromEvents = new Engine(config);
    const fromText = new Engine(config);
    applyEntry(fromEvents, { kind: 'events', channel: 'http', now: 5, idleAfter: true, events });
    applyEntry(fromText, { kind: 'events-ndjson', channel: 'http', now: 5, idleAfter: true, ndjson });
    expect(fromText.snapshot()).toEqual(fromEvents.snapshot());
    const fromBytes = new Engine(config);
    applyEntry(fromBytes, { kind: 'events-ndjson', channel: 'http', now: 5, idleAfter: true, ndjson: Buffer.from(ndjson) });
    expect(fromBytes.snapshot()).toEqual(fromEvents.snapshot());
  });

  it('are stored and read back by the store, old JSON entries included', () => {
    const store = new EmbeddedStore(openDatabase(tempDir()));
    try {
      const commit = (log: LogEntry) => store.commit({ log, partials: [], alerts: [], deadLetters: [] });
      commit({ kind: 'tick', now: 1 });
      commit({ kind: 'events-ndjson', channel: 'http', now: 2, idleAfter: true, ndjson });
      store.db.prepare('INSERT INTO input_log (entry) VALUES (?)').run(JSON.stringify({ kind: 'idle', channel: 'http', now: 3 }));
      commit({ kind: 'events-ndjson', channel: 'http', now: 4, idleAfter: true, ndjson: Buffer.from(ndjson) });
      expect([...store.recovery().log].map((e) => e.entry)).toEqual([
        { kind: 'tick', now: 1 },
        { kind: 'events-ndjson', channel: 'http', now: 2, idleAfter: true, ndjson },
        { kind: 'idle', channel: 'http', now: 3 },
        { kind: 'events-ndjson', channel: 'http', now: 4, idleAfter: true, ndjson: Buffer.from(ndjson) },
      ]);
    } finally {
      store.close();
    }
  });
});
