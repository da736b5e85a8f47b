/** KPI tiles against their targets, each opening its rolling series, and the action plan's targets. */
import { COLOURS, echarts } from './charts.js';
import { h, fill } from './dom.js';
import { t, type Lang } from './i18n.js';
import type { KpiAnswer, KpiInfo, PlanTarget, State } from './state.js';
import { localHourMinute, localTime } from './time.js';

export interface TileSpec {
  kpi: string;
  /** Query of the tile's value (the default range: the trailing 24 h of event time). */
  query: string;
  /** Query of the series the tile opens. */
  series: string;
  /** `window`: over the trailing 24 h; `minute`: a gauge's latest minute. */
  span: 'window' | 'minute';
}

export const TILES: readonly TileSpec[] = [
  { kpi: 'fire_response_coverage_5min', query: 'groupBy=district', series: 'step=1h&window=24h', span: 'window' },
  { kpi: 'fire_response_time_p90', query: '', series: 'step=1h&window=24h', span: 'window' },
  { kpi: 'waterlogging_points_over_threshold', query: '', series: 'step=5m', span: 'minute' },
  { kpi: 'waterlogging_max_depth_cm', query: 'groupBy=point', series: 'step=5m', span: 'minute' },
  { kpi: 'parking_occupancy_rate', query: 'groupBy=district', series: 'step=5m', span: 'minute' },
  { kpi: 'utility_active_alarms', query: '', series: 'step=5m', span: 'minute' },
];

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  switch (unit) {
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    case 's':
      return `${Math.round(value)} s`;
    case 'cm':
      return `${Math.round(value * 10) / 10} cm`;
    default:
      return String(Math.round(value * 100) / 100);
  }
}

export function formatTarget(info: KpiInfo): string {
  if (info.target === null || info.targetDirection === null) return '—';
  const sign = info.targetDirection === 'atLeast' ? '≥' : info.targetDirection === 'below' ? '<' : info.target === 0 ? '=' : '≤';
  return `${sign} ${formatValue(info.target, info.unit)}`;
}

function meetsClass(meets: boolean | null): string {
  return meets === null ? 'none' : meets ? 'met' : 'missed';
}

function meetsText(meets: boolean | null, lang: Lang): string {
  return meets === null ? t('noData', lang) : meets ? t('met', lang) : t('notMet', lang);
}

/** A tile's second line: the districts, or where the deepest water is. */
function breakdown(spec: TileSpec, answer: KpiAnswer, pointName: (id: string) => string): string | null {
  if (answer.groups.length === 0) return null;
  if (spec.kpi === 'waterlogging_max_depth_cm' && answer.kind === 'gauge') {
    let deepest: { point: string; last: number } | undefined;
    for (const g of answer.groups) {
      if (g.last !== null && (deepest === undefined || g.last > deepest.last)) deepest = { point: g.key.point ?? '', last: g.last };
    }
    return deepest === undefined ? null : `${pointName(deepest.point)} ${formatValue(deepest.last, 'cm')}`;
  }
  return answer.groups
    .filter((g) => g.value !== null)
    .map((g) => `${(g.key.district ?? '').replace(/街道$/, '')} ${formatValue(g.value, answer.unit)}`)
    .join(' · ');
}

export function renderTiles(el: HTMLElement, state: State, onOpen: (spec: TileSpec) => void, pointName: (id: string) => string): void {
  const lang = state.lang;
  fill(
    el,
    TILES.map((spec) => {
      const info = state.catalogue.get(spec.kpi);
      const answer = state.kpis.get(spec.kpi);
      if (info === undefined) return null;
      const meets = answer?.meetsTarget ?? null;
      const extra = answer === undefined ? null : breakdown(spec, answer, pointName);
      return h(
        'button',
        { class: `tile ${meetsClass(meets)}`, 'data-testid': `tile-${spec.kpi}`, 'data-value': answer?.value ?? '', onclick: () => onOpen(spec), title: lang === 'zh' ? info.targetBasis : info.targetBasisEn },
        h('span', { class: 'tile-title', 'data-testid': 'tile-title' }, lang === 'zh' ? info.title : info.titleEn),
        h('span', { class: 'tile-value', 'data-testid': 'tile-value' }, formatValue(answer?.value ?? null, info.unit)),
        h('span', { class: 'tile-target' }, `${t('target', lang)} ${formatTarget(info)} · `, h('b', {}, meetsText(meets, lang))),
        h('span', { class: 'tile-span' }, spec.span === 'window' ? t('trailing24h', lang) : t('latestMinute', lang)),
        extra === null || extra === '' ? null : h('span', { class: 'tile-extra' }, extra),
      );
    }),
  );
}

export function renderTargets(el: HTMLElement, state: State): void {
  const lang = state.lang;
  fill(
    el,
    state.targets.map((p: PlanTarget) => {
      const sign = p.direction === 'atLeast' ? '≥' : '≤';
      const value = p.value === null ? null : p.unit === 'ratio' ? formatValue(p.value, 'ratio') : p.value.toLocaleString('en-US');
      const target = p.unit === 'ratio' ? formatValue(p.target, 'ratio') : p.target.toLocaleString('en-US');
      const statusText = p.status === 'measured' ? meetsText(p.meetsTarget, lang) : p.status === 'no_data' ? t('noData', lang) : t('notMeasured', lang);
      return h(
        'div',
        { class: `target ${p.status === 'measured' ? meetsClass(p.meetsTarget) : 'none'}`, 'data-testid': `target-${p.id}`, title: lang === 'zh' ? p.method : p.methodEn },
        h('div', { class: 'target-title' }, lang === 'zh' ? p.title : p.titleEn, h('span', { class: 'target-goal' }, ` ${sign} ${target}`)),
        h('div', { class: 'target-value' }, value ?? '—', h('b', {}, ` ${statusText}`)),
        p.reason === null ? null : h('div', { class: 'target-reason' }, lang === 'zh' ? p.reason : p.reasonEn),
      );
    }),
  );
}

interface SeriesAnswer {
  unit: string;
  target: number | null;
  points: Array<{ at: string; value: number | null }>;
}

/** The rolling series of a tile in the dialog's chart. */
export function drawSeries(container: HTMLElement, info: KpiInfo, series: SeriesAnswer, lang: Lang): echarts.ECharts {
  const existing = echarts.getInstanceByDom(container);
  const chart = existing ?? echarts.init(container, undefined, { renderer: 'canvas' });
  const scale = info.unit === 'ratio' ? 100 : 1;
  chart.setOption(
    {
      animation: false,
      grid: { left: 56, right: 24, top: 32, bottom: 40 },
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 10) / 10}${info.unit === 'ratio' ? '%' : ` ${info.unit}`}` : '—') },
      xAxis: { type: 'category', data: series.points.map((p) => localHourMinute(p.at)), axisLabel: { color: '#c9d1e0' } },
      yAxis: { type: 'value', name: info.unit === 'ratio' ? '%' : info.unit, axisLabel: { color: '#c9d1e0' }, splitLine: { lineStyle: { color: '#2a3448' } } },
      series: [
        {
          type: 'line',
          name: lang === 'zh' ? info.title : info.titleEn,
          data: series.points.map((p) => (p.value === null ? null : p.value * scale)),
          connectNulls: false,
          showSymbol: false,
          lineStyle: { color: '#4fc3f7', width: 2 },
          markLine:
            series.target === null
              ? undefined
              : { symbol: 'none', label: { formatter: `${t('target', lang)} ${formatTarget(info)}`, color: '#fff' }, lineStyle: { color: COLOURS.yellow, type: 'dashed' }, data: [{ yAxis: series.target * scale }] },
        },
      ],
    },
    true,
  );
  return chart;
}

export function seriesCaption(series: { from?: string; to?: string }, lang: Lang): string {
  return `${t('series', lang)} · ${localTime(series.from ?? null)} — ${localTime(series.to ?? null)}`;
}
