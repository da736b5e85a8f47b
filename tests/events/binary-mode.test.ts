/** CloudEvents binary content mode over HTTP (`ce-*`) and Kafka (`ce_*`), and broker records. */
import { describe, expect, it } from 'vitest';
import { fromBinaryMode, hasBinaryModeHeaders } from '../../src/events/binary-mode.js';
import { decodeRecord } from '../../src/events/decode-record.js';

const DATA = { pointId: 'HLG-001', depthCm: 18.5 };
const TIME_MS = Date.UTC(2026, 6, 21, 0, 15, 0);

describe('fromBinaryMode', () => {
  it('builds a structured event from HTTP ce- headers, percent-decoding values and ignoring case', () => {
    const event = fromBinaryMode(
      {
        'CE-SpecVersion': '1.0',
        'ce-id': 'wl-1',
        'ce-source': '%2Fsensors%2Fwaterlogging',
        'ce-type': 'huitian.waterlogging.reading',
        'ce-time': '2026-07-21T08%3A15%3A00%2B08%3A00',
        'ce-subject': '%E5%9B%9E%E9%BE%99%E8%A7%82',
        'content-type': 'application/json',
        'x-request-id': 'r-1',
        'ce-': 'nameless',
        'ce-absent': undefined,
      },
      DATA,
      'ce-',
      'application/json',
    );
    expect(event).toEqual({
      specversion: '1.0',
      id: 'wl-1',
      source: '/sensors/waterlogging',
      type: 'huitian.waterlogging.reading',
      time: '2026-07-21T08:15:00+08:00',
      subject: '回龙观',
      datacontenttype: 'application/json',
      data: DATA,
    });
  });

  it('keeps a value that is not valid percent-encoding as it came', () => {
    const event = fromBinaryMode({ 'ce-specversion': '1.0', 'ce-id': '100%sure' }, {}, 'ce-');
    expect(event).toEqual({ specversion: '1.0', id: '100%sure', data: {} });
  });

  it('does not percent-decode Kafka ce_ headers, which are plain UTF-8', () => {
    const event = fromBinaryMode({ ce_specversion: '1.0', ce_id: 'a%2Fb', ce_time: '2026-07-21T08:15:00+08:00' }, DATA, 'ce_');
    expect(event).toEqual({ specversion: '1.0', id: 'a%2Fb', time: '2026-07-21T08:15:00+08:00', data: DATA });
  });

  it('a ce-datacontenttype header wins over the content type', () => {
    const event = fromBinaryMode({ 'ce-specversion': '1.0', 'ce-datacontenttype': 'application/cloudevents+json' }, DATA, 'ce-', 'text/plain');
    expect(event?.datacontenttype).toBe('application/cloudevents+json');
  });

  it('is not binary mode without a specversion header, or with the other binding prefix', () => {
    expect(fromBinaryMode({ 'ce-id': 'x', 'ce-type': 't' }, DATA, 'ce-')).toBeUndefined();
    expect(fromBinaryMode({ 'ce-specversion': '1.0' }, DATA, 'ce_')).toBeUndefined();
    expect(fromBinaryMode({}, DATA, 'ce-')).toBeUndefined();
  });
});

describe('hasBinaryModeHeaders', () => {
  it('looks for the specversion header of the given binding, in any case', () => {
    expect(hasBinaryModeHeaders({ 'Ce-Specversion': '1.0' }, 'ce-')).toBe(true);
    expect(hasBinaryModeHeaders({ ce_specversion: '1.0' }, 'ce_')).toBe(true);
    expect(hasBinaryModeHeaders({ ce_specversion: '1.0' }, 'ce-')).toBe(false);
    expect(hasBinaryModeHeaders({ 'ce-id': 'x' }, 'ce-')).toBe(false);
  });
});

describe('decodeRecord', () => {
  const structured = {
    specversion: '1.0',
    id: 'wl-1',
    source: '/sensors/waterlogging',
    type: 'huitian.waterlogging.reading',
    time: '2026-07-21T08:15:00+08:00',
    data: DATA,
  };

  it('decodes a structured-mode record', () => {
    expect(decodeRecord(JSON.stringify(structured), {}, 'ce_')).toEqual({
      ok: true,
      event: { id: 'wl-1', source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: TIME_MS, data: DATA },
    });
  });

  it('decodes a binary-mode Kafka record: attributes in ce_ headers, data in the value', () => {
    const headers = {
      ce_specversion: '1.0',
      ce_id: 'wl-2',
      ce_source: '/sensors/waterlogging',
      ce_type: 'huitian.waterlogging.reading',
      ce_time: '2026-07-21T08:15:00+08:00',
      'content-type': 'application/json',
    };
    expect(decodeRecord(JSON.stringify(DATA), headers, 'ce_')).toEqual({
      ok: true,
      event: { id: 'wl-2', source: '/sensors/waterlogging', type: 'huitian.waterlogging.reading', time: TIME_MS, data: DATA },
    });
  });

  it('refuses a binary-mode record whose value is not JSON by its data field, and one missing an attribute by name', () => {
    const headers = { ce_specversion: '1.0', ce_id: 'wl-3', ce_source: '/s', ce_type: 'huitian.waterlogging.reading', ce_time: '2026-07-21T08:15:00+08:00' };
    expect(decodeRecord('depth=18', headers, 'ce_')).toEqual({
      ok: false,
      reason: 'data: must be an object (got string)',
      id: 'wl-3',
      type: 'huitian.waterlogging.reading',
    });
    const { ce_time: _t, ...noTime } = headers;
    expect(decodeRecord(JSON.stringify(DATA), noTime, 'ce_')).toMatchObject({ ok: false, reason: 'time: is required' });
  });

  it('refuses a structured record that is not JSON', () => {
    const decoded = decodeRecord('{oops', {}, 'ce_');
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(/^\(event\): invalid JSON \(/);
  });

  it('passes the record to the contract: a bad depth is named', () => {
    const bad = { ...structured, data: { pointId: 'P', depthCm: -3 } };
    expect(decodeRecord(JSON.stringify(bad), {}, 'ce_')).toEqual({ ok: false, reason: 'data.depthCm: must be ≥ 0', id: 'wl-1', type: 'huitian.waterlogging.reading' });
  });
});
