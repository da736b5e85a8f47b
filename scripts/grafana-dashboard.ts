/**
 * The Grafana dashboard (dashboards/grafana/dashboards/huitian-brain.json), built from the
 * same Flux files the README shows and tests/integration/flux-queries.test.ts runs against
 * InfluxDB, so a panel cannot drift from a tested query. `npm run docs` writes it;
 * tests/docs.test.ts fails when the committed file differs.
 */
import { readFileSync } from 'node:fs';

export const FLUX_DIR = 'dashboards/flux';
export const DASHBOARD_FILE = 'dashboards/grafana/dashboards/huitian-brain.json';
/** Data source uids, as provisioned in dashboards/grafana/provisioning/datasources/. */
export const INFLUX_UID = 'huitian-influxdb';
export const PROMETHEUS_UID = 'huitian-prometheus';

interface PanelSpec {
  title: string;
  type: 'timeseries' | 'bargauge' | 'stat';
  /** A Flux file of FLUX_DIR, or a PromQL expression. */
  flux?: string;
  promql?: string;
  unit?: string;
  /** Values below `red` are red, at or above green (or the reverse with `lowerIsBetter`). */
  target?: number;
  lowerIsBetter?: boolean;
  min?: number;
  max?: number;
}

const PANELS: PanelSpec[] = [
  { title: '消防 5 分钟响应覆盖率（按街道）Fire 5-min coverage by district', type: 'bargauge', flux: 'fire-coverage-by-district.flux', unit: 'percentunit', target: 0.8, min: 0, max: 1 },
  { title: '覆盖率滚动 24 小时 Coverage, trailing 24 h', type: 'timeseries', flux: 'fire-coverage-rolling-24h.flux', unit: 'percentunit', target: 0.8, min: 0, max: 1 },
  { title: '响应时间 P90 Response time p90', type: 'stat', flux: 'fire-response-time-p90.flux', unit: 's', target: 300, lowerIsBetter: true },
  { title: '积水超警戒点位 Waterlogging points ≥ 15 cm', type: 'timeseries', flux: 'waterlogging-points-over-threshold.flux', unit: 'short', min: 0 },
  { title: '停车占用率 Parking occupancy', type: 'timeseries', flux: 'parking-occupancy-by-district.flux', unit: 'percentunit', target: 0.95, lowerIsBetter: true, min: 0 },
  { title: '管线未消除报警 Utility alarms active', type: 'timeseries', flux: 'utility-active-alarms.flux', unit: 'short', min: 0 },
  {
    title: '活动告警 Active alerts by severity',
    type: 'stat',
    promql: 'sum by (severity) (huitian_alerts{status=~"open|acknowledged"})',
    unit: 'short',
  },
];

function thresholds(p: PanelSpec): object {
  if (p.target === undefined) return { mode: 'absolute', steps: [{ color: 'green', value: null }] };
  const [below, above] = p.lowerIsBetter === true ? ['green', 'red'] : ['red', 'green'];
  return { mode: 'absolute', steps: [{ color: below, value: null }, { color: above, value: p.target }] };
}

export function grafanaDashboard(readFlux: (file: string) => string = (f) => readFileSync(`${FLUX_DIR}/${f}`, 'utf8')): object {
  const panels = PANELS.map((p, i) => {
    const target =
      p.flux !== undefined
        ? { refId: 'A', datasource: { type: 'influxdb', uid: INFLUX_UID }, query: readFlux(p.flux) }
        : { refId: 'A', datasource: { type: 'prometheus', uid: PROMETHEUS_UID }, expr: p.promql, legendFormat: '{{severity}}' };
    return {
      id: i + 1,
      title: p.title,
      type: p.type,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      datasource: target.datasource,
      targets: [target],
      fieldConfig: {
        defaults: { unit: p.unit, ...(p.min === undefined ? {} : { min: p.min }), ...(p.max === undefined ? {} : { max: p.max }), thresholds: thresholds(p), ...(p.target !== undefined && p.type === 'timeseries' ? { custom: { thresholdsStyle: { mode: 'line' } } } : {}) },
        overrides: [],
      },
      options: {},
    };
  });
  return {
    uid: 'huitian-brain',
    title: '回天城市大脑 Huitian City Brain',
    tags: ['huitian'],
    timezone: 'Asia/Shanghai',
    schemaVersion: 39,
    time: { from: 'now-24h', to: 'now' },
    refresh: '1m',
    panels,
  };
}

export function grafanaDashboardJson(): string {
  return `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
}
