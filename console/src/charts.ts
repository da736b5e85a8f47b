/**
 * Apache ECharts, only the parts the console draws (line charts, the district map with its
 * points), so the bundle carries no more of it than it uses; the canvas renderer.
 */
import { LineChart, MapChart, ScatterChart, EffectScatterChart } from 'echarts/charts';
import { GeoComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, MapChart, ScatterChart, EffectScatterChart, GeoComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export { echarts };

/** China's four warning colours and the colours of "normal" and "no data". */
export const COLOURS = {
  red: '#e02020',
  orange: '#f08c00',
  yellow: '#f5c400',
  blue: '#1f6fe0',
  ok: '#2fa84f',
  none: '#8a94a6',
} as const;
