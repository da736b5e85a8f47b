/** The console's alert list: which state of an alert wins, what the filters let through, and the order. */
import { describe, expect, it } from 'vitest';
import { initialState, newer, visibleAlerts, type Alert } from '../../console/src/state.js';

function alert(id: string, severity: Alert['severity'], status: Alert['status'], updatedAt: string, historyLength = 1, extra: Partial<Alert> = {}): Alert {
  return {
    id,
    rule: 'waterlogging_depth',
    category: 'flood',
    entityId: id,
    severity,
    level: 'III',
    capSeverity: 'Moderate',
    status,
    title: id,
    titleEn: id,
    message: '',
    messageEn: '',
    district: '回龙观街道',
    value: 1,
    threshold: 1,
    openedAt: updatedAt,
    updatedAt,
    acknowledgedAt: null,
    resolvedAt: null,
    version: historyLength,
    peakValue: 1,
    peakAt: updatedAt,
    acknowledgedUntil: null,
    silencedBy: null,
    location: null,
    history: Array.from({ length: historyLength }, () => ({ at: updatedAt, action: 'opened', severity, by: 'x' })),
    ...extra,
  };
}

describe('console state', () => {
  it('keeps the state with the longer history, whichever arrived last', () => {
    const listed = alert('a', 'yellow', 'open', '2026-07-21T08:00:00+08:00', 1);
    const streamed = alert('a', 'yellow', 'acknowledged', '2026-07-21T08:01:00+08:00', 2);
    expect(newer(undefined, listed)).toBe(listed);
    expect(newer(streamed, listed)).toBe(streamed);
    expect(newer(listed, streamed)).toBe(streamed);
  });

  it('lists active before resolved, the most severe first, then the most recently changed', () => {
    const s = initialState('zh', false);
    s.filters.status = '';
    for (const a of [
      alert('old-red', 'red', 'open', '2026-07-21T07:00:00+08:00'),
      alert('new-blue', 'blue', 'open', '2026-07-21T09:00:00+08:00'),
      alert('new-red', 'red', 'acknowledged', '2026-07-21T08:00:00+08:00'),
      alert('done-red', 'red', 'resolved', '2026-07-21T09:30:00+08:00'),
    ])
      s.alerts.set(a.id, a);
    expect(visibleAlerts(s).map((a) => a.id)).toEqual(['new-red', 'old-red', 'new-blue', 'done-red']);
    s.filters.status = 'active';
    expect(visibleAlerts(s).map((a) => a.id)).toEqual(['new-red', 'old-red', 'new-blue']);
    s.filters.status = 'open';
    s.filters.severity = 'red';
    expect(visibleAlerts(s).map((a) => a.id)).toEqual(['old-red']);
    s.filters = { severity: '', category: 'utility', district: '', status: '' };
    expect(visibleAlerts(s)).toEqual([]);
  });
});
