/** Waterlogging depth: yellow ≥ 15 cm, orange ≥ 27 cm, red ≥ 40 cm; resolved below 10 cm. */
import { SEVERITY_ZH } from './alert.js';
import { ThresholdRule } from './threshold-rule.js';
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import type { RulesConfig } from './rules-config.js';
import { UNKNOWN } from '../kpis/partials.js';

export const WATERLOGGING_DEPTH_RULE = 'waterlogging_depth';

export function waterloggingDepthRule(rules: RulesConfig): ThresholdRule {
  const w = rules.waterlogging;
  return new ThresholdRule(
    WATERLOGGING_DEPTH_RULE,
    'flood',
    () => [
      { severity: 'yellow', atLeast: w.yellowCm },
      { severity: 'orange', atLeast: w.orangeCm },
      { severity: 'red', atLeast: w.redCm },
    ],
    () => w.clearBelowCm,
  );
}

export function onWaterloggingReading(rule: ThresholdRule, ctx: StepContext, e: EventOf<'huitian.waterlogging.reading'>, district: string | undefined): void {
  const d = e.data;
  rule.onReading(ctx, d.pointId, e, d.depthCm, (level) => {
    const place = d.name === undefined ? d.pointId : `${d.name}（${d.pointId}）`;
    const placeEn = d.name === undefined ? d.pointId : `${d.name} (${d.pointId})`;
    return {
      district: district ?? UNKNOWN,
      title: `积水${SEVERITY_ZH[level.severity]}预警：${place} 积水 ${d.depthCm} 厘米`,
      titleEn: `Waterlogging ${level.severity} warning: ${placeEn} at ${d.depthCm} cm`,
      message: `${place} 积水深度 ${d.depthCm} 厘米，已达${SEVERITY_ZH[level.severity]}预警阈值 ${level.atLeast} 厘米，请安排排水与交通管制。`,
      messageEn: `Water depth at ${placeEn} is ${d.depthCm} cm, at or above the ${level.severity} threshold of ${level.atLeast} cm; dispatch drainage and traffic control.`,
    };
  }, d.lat !== undefined && d.lon !== undefined ? { lat: d.lat, lon: d.lon } : undefined);
}
