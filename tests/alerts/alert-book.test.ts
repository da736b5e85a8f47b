/** The active alerts: one per (rule, entity), every change a history entry and an AlertChange. */
import { describe, expect, it } from 'vitest';
import { AlertBook, alertIdOf, type RaiseSpec } from '../../src/alerts/alert-book.js';
import { CAP_SEVERITY, SEVERITY_LEVEL, severityRank, toPublicAlert, type AlertChange } from '../../src/alerts/alert.js';

const T = 1_784_592_000_000;

function spec(overrides: Partial<RaiseSpec> = {}): RaiseSpec {
  return {
    rule: 'waterlogging_depth',
    category: 'flood',
    entityId: 'P1',
    severity: 'yellow',
    district: '回龙观街道',
    value: 16,
    threshold: 15,
    title: '积水黄色预警',
    titleEn: 'Waterlogging yellow warning',
    message: '积水 16 厘米',
    messageEn: '16 cm of water',
    at: T,
    by: 'event:e1',
    ...overrides,
  };
}

function book() {
  const changes: AlertChange[] = [];
  return { book: new AlertBook((c) => changes.push(c)), changes };
}

describe('alertIdOf', () => {
  it('is derived from (rule, entity, openedAt) only: the same in every run', () => {
    expect(alertIdOf('r', 'e', T)).toBe(alertIdOf('r', 'e', T));
    expect(alertIdOf('r', 'e', T)).toMatch(/^al_[0-9a-f]{20}$/);
    expect(new Set([alertIdOf('r', 'e', T), alertIdOf('r', 'e', T + 1), alertIdOf('r', 'f', T), alertIdOf('s', 'e', T), alertIdOf('r\u0000e', '', T)]).size).toBe(5);
  });
});

describe('AlertBook', () => {
  it('opens, escalates (only upward), acknowledges and resolves one alert per (rule, entity)', () => {
    const { book: b, changes } = book();
    b.raise(spec());
    b.raise(spec({ severity: 'blue', at: T + 1000 })); // lower: nothing
    b.raise(spec({ severity: 'yellow', at: T + 2000 })); // equal: nothing
    const id = alertIdOf('waterlogging_depth', 'P1', T);
    expect(b.active('waterlogging_depth', 'P1')?.id).toBe(id);
    expect(b.acknowledge(id, T + 3000, '李工', '已知悉')).toMatchObject({ status: 'acknowledged', acknowledgedAt: T + 3000 });
    expect(b.acknowledge(id, T + 3500, '李工')).toBe('already_acknowledged');
    b.raise(spec({ severity: 'red', value: 45, threshold: 40, at: T + 4000, by: 'event:e9' }));
    b.clear('waterlogging_depth', 'P1', T + 5000, 'event:e10', 8, 'water receded');
    expect(changes.map((c) => [c.action, c.alert.status, c.alert.severity])).toEqual([
      ['opened', 'open', 'yellow'],
      ['acknowledged', 'acknowledged', 'yellow'],
      ['escalated', 'open', 'red'], // escalation puts it back in front of the operators
      ['resolved', 'resolved', 'red'],
    ]);
    expect(changes.at(-1)!.alert).toMatchObject({ id, openedAt: T, updatedAt: T + 5000, acknowledgedAt: T + 3000, resolvedAt: T + 5000, value: 8, peakValue: 45, peakAt: T + 4000, threshold: 40 });
    expect(changes.at(-1)!.alert.history).toEqual([
      { at: T, action: 'opened', severity: 'yellow', by: 'event:e1', value: 16 },
      { at: T + 3000, action: 'acknowledged', severity: 'yellow', by: '李工', note: '已知悉' },
      { at: T + 4000, action: 'escalated', severity: 'red', by: 'event:e9', value: 45 },
      { at: T + 5000, action: 'resolved', severity: 'red', by: 'event:e10', note: 'water receded', value: 8 },
    ]);
    expect(b.activeCount).toBe(0);
    expect(b.get(id)).toBeUndefined();
  });

  it('hands out copies: keeping or changing an emitted alert does not touch the book', () => {
    const { book: b, changes } = book();
    b.raise(spec());
    changes[0]!.alert.history.push({ at: 0, action: 'resolved', severity: 'red', by: 'x' });
    changes[0]!.alert.status = 'resolved';
    const live = b.get(alertIdOf('waterlogging_depth', 'P1', T))!;
    expect(live.status).toBe('open');
    expect(live.history).toHaveLength(1);
  });

  it('manual resolve, and refusals for alerts that are not active', () => {
    const { book: b } = book();
    b.raise(spec());
    const id = alertIdOf('waterlogging_depth', 'P1', T);
    expect(b.resolveManually(id, T + 60_000, 'operator', 'false reading')).toMatchObject({ status: 'resolved', resolvedAt: T + 60_000 });
    expect(b.resolveManually(id, T + 61_000, 'operator')).toBe('not_active');
    expect(b.acknowledge(id, T + 61_000, 'operator')).toBe('not_active');
    b.clear('waterlogging_depth', 'P1', T, 'x'); // nothing active: no-op
    expect(b.activeCount).toBe(0);
  });

  it('never resolves before it opened (an operator clock behind the alert)', () => {
    const { book: b } = book();
    b.raise(spec());
    const r = b.resolveManually(alertIdOf('waterlogging_depth', 'P1', T), T - 5000, 'operator');
    expect(r).toMatchObject({ resolvedAt: T, updatedAt: T });
  });

  it('survives a JSON round trip of its snapshot', () => {
    const { book: b } = book();
    b.raise(spec());
    b.raise(spec({ entityId: 'P2', severity: 'orange' }));
    const { book: copy, changes } = book();
    copy.restore(JSON.parse(JSON.stringify(b.snapshot())));
    expect(copy.activeCount).toBe(2);
    copy.raise(spec({ entityId: 'P2', severity: 'red', at: T + 1 }));
    expect(changes.map((c) => [c.action, c.alert.id])).toEqual([['escalated', alertIdOf('waterlogging_depth', 'P2', T)]]);
  });
});

describe('alert vocabulary', () => {
  it('maps China’s four warning colours onto levels and CAP severities', () => {
    expect(SEVERITY_LEVEL).toEqual({ blue: 'IV', yellow: 'III', orange: 'II', red: 'I' });
    expect(CAP_SEVERITY).toEqual({ blue: 'Minor', yellow: 'Moderate', orange: 'Severe', red: 'Extreme' });
    expect(['blue', 'yellow', 'orange', 'red'].map((s) => severityRank(s as 'blue'))).toEqual([0, 1, 2, 3]);
  });

  it('toPublicAlert writes times as RFC 3339 with the zone’s offset and adds CAP severity and level', () => {
    const { book: b, changes } = book();
    b.raise(spec({ severity: 'orange' }));
    const pub = toPublicAlert(changes[0]!.alert, 'Asia/Shanghai');
    expect(pub).toMatchObject({
      capSeverity: 'Severe',
      level: 'II',
      openedAt: '2026-07-21T08:00:00+08:00',
      updatedAt: '2026-07-21T08:00:00+08:00',
      acknowledgedAt: null,
      resolvedAt: null,
      history: [{ at: '2026-07-21T08:00:00+08:00', action: 'opened', severity: 'orange', by: 'event:e1', value: 16 }],
    });
    expect(toPublicAlert(changes[0]!.alert, 'UTC').openedAt).toBe('2026-07-21T00:00:00+00:00');
    expect(toPublicAlert(changes[0]!.alert, 'America/New_York').openedAt).toBe('2026-07-20T20:00:00-04:00');
  });

  it('keeps an operator’s wall-clock time beside the event-time clock', () => {
    const { book: b, changes } = book();
    b.raise(spec({ severity: 'orange' }));
    const wall = Date.parse('2026-07-22T10:30:00.250+08:00');
    const acked = b.acknowledge(changes[0]!.alert.id, T + 5000, '值班员张伟', '已派排水车', undefined, wall);
    expect(typeof acked).toBe('object');
    const pub = toPublicAlert(acked as Exclude<typeof acked, string>, 'Asia/Shanghai');
    expect(pub.history[1]).toEqual({
      at: '2026-07-21T08:00:05+08:00',
      wallClockAt: '2026-07-22T10:30:00.250+08:00',
      action: 'acknowledged',
      severity: 'orange',
      by: '值班员张伟',
      note: '已派排水车',
    });
    expect(pub.history[0]).not.toHaveProperty('wallClockAt');
  });
});

describe('alert ids when a slot reopens at the instant its last alert opened', () => {
  it('gives the new alert its own id, so the store never overwrites the resolved one', () => {
    const changes: Array<{ action: string; id: string }> = [];
    const book = new AlertBook((c) => changes.push({ action: c.action, id: c.alert.id }));
    const spec: RaiseSpec = {
      rule: 'r',
      category: 'flood',
      entityId: 'P1',
      severity: 'yellow',
      district: 'd',
      value: 20,
      threshold: 15,
      title: 't',
      titleEn: 't',
      message: 'm',
      messageEn: 'm',
      at: 1000,
      by: 'event:a',
    };
    book.raise(spec);
    book.clear('r', 'P1', 1000, 'event:b');
    book.raise({ ...spec, by: 'event:c' });
    book.clear('r', 'P1', 1000, 'event:d');
    book.raise({ ...spec, by: 'event:e' });
    const opened = changes.filter((c) => c.action === 'opened').map((c) => c.id);
    expect(new Set(opened).size).toBe(3);
    expect(opened[1]).toBe(`${opened[0]}-2`);
    expect(opened[2]).toBe(`${opened[0]}-3`);
    // A later opening instant starts over with the plain id.
    book.clear('r', 'P1', 2000, 'event:f');
    book.raise({ ...spec, at: 5000 });
    expect(changes.at(-1)!.id).not.toContain('-');
  });

  it('an acknowledgement with `until` lapses at `until`: before anything later happens to the alert, or by the timer', () => {
    const { book: b, changes } = book();
    b.raise(spec());
    const id = alertIdOf('waterlogging_depth', 'P1', T);
    b.acknowledge(id, T + 1000, '李工', undefined, T + 10_000);
    // A worse reading after `until` is applied after the lapse, whatever the watermark did.
    b.raise(spec({ severity: 'red', value: 45, threshold: 40, at: T + 12_000, by: 'event:e9' }));
    expect(changes.map((c) => [c.action, c.alert.status])).toEqual([
      ['opened', 'open'],
      ['acknowledged', 'acknowledged'],
      ['reopened', 'open'],
      ['escalated', 'open'],
    ]);
    expect(changes[2]!.alert.history.at(-1)).toMatchObject({ at: T + 10_000, action: 'reopened', by: 'ack-timeout' });
    expect(changes[1]!.alert.history.at(-1)).toMatchObject({ until: T + 10_000 });
    b.acknowledge(id, T + 13_000, '李工', undefined, T + 20_000);
    b.lapseAcknowledgement(id, T + 19_999); // not yet
    b.lapseAcknowledgement(id, T + 20_000);
    expect(changes.map((c) => c.action).slice(4)).toEqual(['acknowledged', 'reopened']);
  });

  it('annotations go into the history in event-time order; `observe` keeps the peak and rebuilds the texts only for a new one', () => {
    const { book: b, changes } = book();
    b.raise(spec());
    const id = alertIdOf('waterlogging_depth', 'P1', T);
    b.raise(spec({ severity: 'red', value: 45, threshold: 40, at: T + 4000, by: 'event:e9' }));
    b.annotate(id, { at: T + 2000, action: 'escalated_to', severity: 'yellow', by: 'escalation:yellow', route: 'chief' });
    expect(changes.at(-1)!.alert.history.map((h) => h.action)).toEqual(['opened', 'escalated_to', 'escalated']);
    expect(b.annotate('al_nope', { at: T, action: 'reminded', severity: 'red', by: 'x' })).toBeUndefined();
    let built = 0;
    const texts = () => {
      built++;
      return { title: `t${built}`, titleEn: 'e', message: 'm', messageEn: 'me' };
    };
    b.observe('waterlogging_depth', 'P1', 44, T + 5000, texts);
    b.observe('waterlogging_depth', 'P1', 50, T + 6000, texts);
    b.observe('waterlogging_depth', 'P1', 47, T + 7000, texts);
    expect(built).toBe(1);
    expect(b.get(id)).toMatchObject({ value: 47, peakValue: 50, peakAt: T + 6000, title: 't1' });
    expect(changes).toHaveLength(3); // observing is not a transition
  });
});
