/** `huitian validate`: validateFile reports each bad line as line number and reason. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate-command.js';
import { FIRE_FIXTURE, FIRE_FIXTURE_EVENTS } from '../fixtures/fire-response-small.js';
import { HLG, waterlogging } from '../helpers/events.js';
import { tempDir, useServiceCleanup } from '../helpers/service.js';

useServiceCleanup();

async function validate(file: string) {
  const reports: Array<[number, string]> = [];
  const summary = await validateFile(file, (line, reason) => reports.push([line, reason]));
  return { summary, reports };
}

describe('validateFile', () => {
  it('passes a valid file', async () => {
    const { summary, reports } = await validate(FIRE_FIXTURE);
    expect(summary).toEqual({ lines: FIRE_FIXTURE_EVENTS, valid: FIRE_FIXTURE_EVENTS, invalid: 0, duplicates: 0 });
    expect(reports).toEqual([]);
  });

  it('reports each bad line with its 1-based number (blank lines counted, not checked) and the reason', async () => {
    const file = join(tempDir(), 'mixed.ndjson');
    const good = JSON.stringify(waterlogging('v1', 0, 'P1', 12, HLG));
    writeFileSync(
      file,
      [
        good, // 1
        JSON.stringify(waterlogging('v2', 60, 'P1', -3, HLG)), // 2
        '', // 3
        '{"specversion": "1.0", "id": ', // 4
        JSON.stringify({ ...waterlogging('v3', 120, 'P1', 3, HLG), type: 'huitian.flood.reading' }), // 5
        good, // 6: a duplicate is valid, and counted
        JSON.stringify({ ...waterlogging('v4', 180, 'P1', 3, HLG), time: '2026-07-21 08:00' }), // 7
        '\r', // 8: CRLF file
        JSON.stringify(waterlogging('v5', 240, 'P1', 1, HLG)), // 9
      ].join('\n') + '\n',
    );
    const { summary, reports } = await validate(file);
    expect(summary).toEqual({ lines: 7, valid: 3, invalid: 4, duplicates: 1 });
    expect(reports.map(([line]) => line)).toEqual([2, 4, 5, 7]);
    expect(reports[0]).toEqual([2, 'data.depthCm: must be ≥ 0']);
    expect(reports[1]![1]).toMatch(/^\(event\): invalid JSON \(/);
    expect(reports[2]![1]).toMatch(/^type: unknown event type "huitian\.flood\.reading" \(known: /);
    expect(reports[3]).toEqual([7, 'time: must be a valid RFC 3339 timestamp with offset']);
  });
});
