/**
 * The district map: the streets (schematic areas from the reference data, see
 * district-map.ts) with the waterlogging points, parking lots, fire stations, utility
 * lines and overdue incidents on it, each coloured by its state; clicking one with an
 * active alert opens that alert.
 */
import { COLOURS, echarts } from './charts.js';
import { districtShapes, type ReferenceData } from './district-map.js';
import { t, type Lang } from './i18n.js';
import { SEVERITY_RANK, type Alert, type KpiAnswer, type State } from './state.js';

export interface MapInputs {
  /** Latest depth per point (waterlogging_max_depth_cm grouped by point). */
  depthByPoint: KpiAnswer | undefined;
  /** Latest occupancy per lot. */
  occupancyByLot: KpiAnswer | undefined;
  /** Coverage per station over the trailing 24 h. */
  coverageByStation: KpiAnswer | undefined;
}

interface Datum {
  name: string;
  value: [number, number];
  itemStyle: { color: string };
  alertId?: string;
  detail: string;
}

/** The most severe active alert of each entity id (and of each line, for utility alarms `line/code`). */
function activeByEntity(alerts: Iterable<Alert>): Map<string, Alert> {
  const m = new Map<string, Alert>();
  for (const a of alerts) {
    if (a.status === 'resolved') continue;
    for (const key of [a.entityId, a.entityId.split('/')[0]!]) {
      const prev = m.get(key);
      if (prev === undefined || SEVERITY_RANK[a.severity]! > SEVERITY_RANK[prev.severity]!) m.set(key, a);
    }
  }
  return m;
}

function groupValue(answer: KpiAnswer | undefined, tag: string, id: string, field: 'value' | 'last' = 'value'): number | null {
  const g = answer?.groups.find((x) => x.key[tag] === id);
  if (g === undefined) return null;
  // `last` is a gauge's figure; every kind has `value`.
  return field === 'value' ? g.value : 'last' in g ? g.last : null;
}

function hash(text: string): number {
  let x = 2166136261;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 16777619);
  return (x >>> 0) / 4294967296;
}

export class DistrictMap {
  private readonly chart: echarts.ECharts;
  private readonly districtCentre: Map<string, [number, number]>;
  /** The marks that open an alert, as last drawn. */
  private withAlert: Datum[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly ref: ReferenceData,
    onOpenAlert: (id: string) => void,
  ) {
    echarts.registerMap('huitian', districtShapes(ref) as unknown as Parameters<typeof echarts.registerMap>[1]);
    this.chart = echarts.init(container, undefined, { renderer: 'canvas' });
    this.districtCentre = new Map(ref.districts.map((d) => [d.name, [d.lon, d.lat]]));
    this.chart.on('click', (params) => {
      const id = (params.data as Datum | undefined)?.alertId;
      if (id !== undefined) onOpenAlert(id);
    });
    this.chart.on('georoam', () => this.markSpots());
    new ResizeObserver(() => {
      this.chart.resize();
      this.markSpots();
    }).observe(container);
  }

  /**
   * Where each alert's mark is drawn, in CSS pixels of the container, as `data-alert-spots`
   * ({alertId: [x, y]}): the canvas has no element per mark, and this lets a browser test
   * click where a person would. Kept current through zoom, pan and resize.
   */
  private markSpots(): void {
    const spots: Record<string, [number, number]> = {};
    for (const d of this.withAlert) {
      if (d.alertId === undefined || spots[d.alertId] !== undefined) continue;
      const p = this.chart.convertToPixel('geo', d.value) as number[] | undefined;
      if (Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])) spots[d.alertId] = [Math.round(p[0]!), Math.round(p[1]!)];
    }
    this.container.dataset.alertSpots = JSON.stringify(spots);
  }

  draw(state: State, inputs: MapInputs): void {
    const lang = state.lang;
    const active = activeByEntity(state.alerts.values());
    const colourOf = (id: string, fallback: string): { color: string; alert?: Alert } => {
      const a = active.get(id);
      return a === undefined ? { color: fallback } : { color: COLOURS[a.severity], alert: a };
    };
    const datum = (name: string, lon: number, lat: number, c: { color: string; alert?: Alert }, detail: string): Datum => ({
      name,
      value: [lon, lat],
      itemStyle: { color: c.color },
      ...(c.alert === undefined ? {} : { alertId: c.alert.id }),
      detail: c.alert === undefined ? detail : `${detail}<br/>${escapeHtml(lang === 'zh' ? c.alert.title : c.alert.titleEn)}`,
    });
    const points = this.ref.waterloggingPoints.map((p) => {
      const depth = groupValue(inputs.depthByPoint, 'point', p.id, 'last');
      return datum(p.name, p.lon, p.lat, colourOf(p.id, depth === null ? COLOURS.none : COLOURS.ok), `${escapeHtml(p.name)} · ${depth === null ? '—' : `${depth} cm`}`);
    });
    const lots = this.ref.parkingLots.map((l) => {
      const rate = groupValue(inputs.occupancyByLot, 'lot', l.id, 'last');
      const fallback = rate === null ? COLOURS.none : rate >= 0.95 ? COLOURS.orange : rate >= 0.85 ? COLOURS.yellow : COLOURS.ok;
      return datum(l.name, l.lon, l.lat, colourOf(l.id, fallback), `${escapeHtml(l.name)} · ${rate === null ? '—' : `${Math.round(rate * 100)}%`} / ${l.capacity}`);
    });
    const stations = this.ref.fireStations.map((s) => {
      const coverage = groupValue(inputs.coverageByStation, 'station', s.name);
      const colour = coverage === null ? COLOURS.none : coverage >= 0.8 ? COLOURS.ok : COLOURS.red;
      return datum(s.name, s.lon, s.lat, { color: colour }, `${escapeHtml(s.name)} · ${coverage === null ? '—' : `${Math.round(coverage * 1000) / 10}%`}`);
    });
    const lines = this.ref.utilityLines.map((u) => datum(u.name, u.lon, u.lat, colourOf(u.id, COLOURS.ok), escapeHtml(u.name)));
    // An overdue incident's alert names its street, not its position: drawn near the street's centre.
    const incidents = [...state.alerts.values()]
      .filter((a) => a.rule === 'dispatch_overdue' && a.status !== 'resolved')
      .map((a) => {
        const [lon, lat] = this.districtCentre.get(a.district) ?? [116.36, 40.07];
        const r = hash(a.id);
        return datum(a.entityId, lon + (r - 0.5) * 0.012, lat + (hash(`${a.id}y`) - 0.5) * 0.008, { color: COLOURS[a.severity], alert: a }, escapeHtml(a.entityId));
      });
    const scatter = (name: string, data: Datum[], symbol: string, size: number) => ({
      type: 'scatter' as const,
      coordinateSystem: 'geo',
      name,
      data,
      symbol,
      symbolSize: size,
      // The series colour is the legend's; each point carries its own state's colour.
      itemStyle: { color: '#c9d1e0', borderColor: '#0b1220', borderWidth: 1 },
      emphasis: { scale: 1.6 },
      z: 3,
    });
    this.chart.setOption(
      {
        animation: false,
        tooltip: { trigger: 'item', formatter: (p: { data?: Datum; name: string }) => p.data?.detail ?? escapeHtml(p.name) },
        legend: { bottom: 4, textStyle: { color: '#c9d1e0' }, itemWidth: 10, itemHeight: 10 },
        geo: {
          map: 'huitian',
          roam: true,
          aspectScale: 0.77,
          layoutCenter: ['50%', '48%'],
          layoutSize: '95%',
          label: { show: true, color: '#9fb0cc', fontSize: 11 },
          itemStyle: { areaColor: '#16213a', borderColor: '#3c4e73', borderWidth: 1 },
          emphasis: { itemStyle: { areaColor: '#1f2e4f' }, label: { color: '#fff' } },
          select: { disabled: true },
        },
        series: [
          scatter(t('points', lang), points, 'circle', 11),
          scatter(t('lots', lang), lots, 'rect', 10),
          scatter(t('stations', lang), stations, 'triangle', 13),
          scatter(t('lines', lang), lines, 'diamond', 10),
          { ...scatter(t('incidents', lang), incidents, 'pin', 22), type: 'effectScatter', rippleEffect: { scale: 3 } },
        ],
      },
      { replaceMerge: ['series'] },
    );
    this.withAlert = [...points, ...lots, ...lines, ...incidents].filter((d) => d.alertId !== undefined);
    this.markSpots();
  }

  resize(): void {
    this.chart.resize();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function mapNote(lang: Lang): string {
  return t('mapNote', lang);
}
