/** An alert opened: what, where, its value and peak, its history, and (for operators) acknowledge / resolve with a note. */
import { alertTitle } from './alerts-view.js';
import { h, fill } from './dom.js';
import { ACTION_NAMES, CATEGORY_NAMES, named, SEVERITY_NAMES, STATUS_NAMES, t } from './i18n.js';
import type { Alert, State } from './state.js';
import { localTime } from './time.js';

export interface DetailActions {
  close: () => void;
  act: (kind: 'ack' | 'resolve', note: string) => Promise<void>;
  /** The reference name and street of an entity, when the map knows it. */
  placeOf: (a: Alert) => string | null;
}

function row(label: string, value: string | number | null | undefined, testid?: string): HTMLElement {
  return h('div', { class: 'kv' }, h('dt', {}, label), h('dd', testid === undefined ? {} : { 'data-testid': testid }, value === null || value === undefined || value === '' ? '—' : String(value)));
}

export function renderDetail(el: HTMLElement, state: State, actions: DetailActions, error: string | null): void {
  const a = state.selected === null ? undefined : state.alerts.get(state.selected);
  el.hidden = a === undefined;
  if (a === undefined) {
    fill(el);
    return;
  }
  const lang = state.lang;
  const unit = a.category === 'flood' ? ' cm' : a.category === 'dispatch' ? ' s' : '';
  const note = h('textarea', { id: 'action-note', 'data-testid': 'action-note', rows: 2, maxlength: 2000, placeholder: t('notePlaceholder', lang) });
  const busy = (on: boolean) => {
    for (const b of el.querySelectorAll<HTMLButtonElement>('button.act')) b.disabled = on;
  };
  const button = (kind: 'ack' | 'resolve', label: string) =>
    h(
      'button',
      {
        class: `act act-${kind}`,
        'data-testid': kind,
        onclick: () => {
          busy(true);
          void actions.act(kind, note.value.trim()).finally(() => busy(false));
        },
      },
      label,
    );
  const place = actions.placeOf(a);
  fill(
    el,
    h(
      'header',
      { class: `detail-head sev-${a.severity}` },
      h('span', { class: `badge sev-${a.severity}` }, `${named(SEVERITY_NAMES, a.severity, lang)} · ${named(CATEGORY_NAMES, a.category, lang)}`),
      h('button', { class: 'close', 'data-testid': 'detail-close', 'aria-label': t('close', lang), onclick: actions.close }, '×'),
    ),
    h('h2', { 'data-testid': 'detail-title' }, alertTitle(a, state)),
    h('p', { class: 'message' }, lang === 'zh' ? a.message : a.messageEn),
    h(
      'dl',
      {},
      row(t('status', lang), named(STATUS_NAMES, a.status, lang), 'detail-status'),
      row(t('place', lang), [a.district, place].filter((x) => x !== null && x !== '').join(' · ')),
      row(t('entity', lang), a.entityId),
      row(t('value', lang), a.value === null ? null : `${a.value}${unit}`, 'detail-value'),
      row(t('threshold', lang), a.threshold === null ? null : `${a.threshold}${unit}`),
      a.peakValue === undefined ? null : row(t('peak', lang), a.peakValue === null ? null : `${a.peakValue}${unit}${a.peakAt ? ` · ${localTime(a.peakAt)}` : ''}`, 'detail-peak'),
      row(t('openedAt', lang), localTime(a.openedAt)),
      row(t('updatedAt', lang), localTime(a.updatedAt)),
    ),
    h('h3', {}, t('history', lang)),
    h(
      'table',
      { class: 'history', 'data-testid': 'history' },
      h('thead', {}, h('tr', {}, ...(['at', 'wallClock', 'action', 'by', 'value', 'note'] as const).map((k) => h('th', {}, t(k, lang))))),
      h(
        'tbody',
        {},
        a.history.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, localTime(e.at)),
            h('td', {}, e.wallClockAt === undefined ? '—' : localTime(e.wallClockAt)),
            h('td', {}, named(ACTION_NAMES, e.action, lang)),
            h('td', {}, e.by),
            h('td', {}, e.value === undefined || e.value === null ? '—' : String(e.value)),
            h('td', {}, e.note ?? ''),
          ),
        ),
      ),
    ),
    state.canOperate && a.status !== 'resolved'
      ? h(
          'div',
          { class: 'actions' },
          note,
          h('div', { class: 'buttons' }, a.status === 'open' ? button('ack', t('acknowledge', lang)) : null, button('resolve', t('resolve', lang))),
        )
      : null,
    error === null ? null : h('p', { class: 'error', role: 'alert' }, error),
  );
}
