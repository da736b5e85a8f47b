/** The live alert list and its filters. */
import { h, fill } from './dom.js';
import { CATEGORY_NAMES, named, SEVERITY_NAMES, STATUS_NAMES, t } from './i18n.js';
import { visibleAlerts, type Alert, type State } from './state.js';
import { localTime } from './time.js';

const SEVERITIES = ['red', 'orange', 'yellow', 'blue'];
const CATEGORIES = ['flood', 'utility', 'parking', 'dispatch', 'sensor', 'kpi'];
const STATUSES = ['active', 'open', 'acknowledged', 'resolved'];

export function alertTitle(a: Alert, state: State): string {
  return state.lang === 'zh' ? a.title : a.titleEn;
}

function select(id: string, label: string, value: string, options: Array<[string, string]>, onChange: (v: string) => void): HTMLElement {
  const sel = h('select', { id, 'data-testid': id, onchange: (e: Event) => onChange((e.target as HTMLSelectElement).value) }, ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  sel.value = value;
  return h('label', { class: 'filter' }, h('span', {}, label), sel);
}

export function renderFilters(el: HTMLElement, state: State, districts: string[], onChange: (key: keyof State['filters'], v: string) => void): void {
  const lang = state.lang;
  const all: [string, string] = ['', t('all', lang)];
  fill(
    el,
    select('filter-severity', t('severity', lang), state.filters.severity, [all, ...SEVERITIES.map((s): [string, string] => [s, named(SEVERITY_NAMES, s, lang)])], (v) => onChange('severity', v)),
    select('filter-category', t('category', lang), state.filters.category, [all, ...CATEGORIES.map((c): [string, string] => [c, named(CATEGORY_NAMES, c, lang)])], (v) => onChange('category', v)),
    select('filter-district', t('district', lang), state.filters.district, [all, ...districts.map((d): [string, string] => [d, d])], (v) => onChange('district', v)),
    select('filter-status', t('status', lang), state.filters.status, [all, ...STATUSES.map((s): [string, string] => [s, named(STATUS_NAMES, s, lang)])], (v) => onChange('status', v)),
  );
}

export function renderAlertList(el: HTMLElement, state: State, onOpen: (id: string) => void): void {
  const lang = state.lang;
  const alerts = visibleAlerts(state);
  if (alerts.length === 0) {
    fill(el, h('p', { class: 'empty' }, t('noAlerts', lang)));
    return;
  }
  fill(
    el,
    alerts.map((a) =>
      h(
        'button',
        {
          class: `alert-row sev-${a.severity} status-${a.status}${state.unseenRed.has(a.id) ? ' pulse' : ''}${state.selected === a.id ? ' selected' : ''}`,
          'data-testid': 'alert-row',
          'data-alert-id': a.id,
          'data-severity': a.severity,
          'data-status': a.status,
          onclick: () => onOpen(a.id),
        },
        h('span', { class: `badge sev-${a.severity}` }, named(SEVERITY_NAMES, a.severity, lang)),
        h(
          'span',
          { class: 'alert-main' },
          h('span', { class: 'alert-title', 'data-testid': 'alert-title' }, alertTitle(a, state)),
          h('span', { class: 'alert-meta' }, `${named(CATEGORY_NAMES, a.category, lang)} · ${a.district} · ${localTime(a.updatedAt)}`),
        ),
        h('span', { class: `status status-${a.status}` }, named(STATUS_NAMES, a.status, lang)),
      ),
    ),
  );
}
