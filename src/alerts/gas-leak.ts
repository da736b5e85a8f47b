/**
 * Combustible gas concentration on a utility line: orange ≥ 20 %LEL, red ≥ 50 %LEL
 * (the two alarm set points of GB 15322 detectors); resolved below 10 %LEL.
 */
import { SEVERITY_ZH } from './alert.js';
import { ThresholdRule } from './threshold-rule.js';
import type { EventOf } from '../events/schemas.js';
import type { StepContext } from '../engine/step-context.js';
import type { RulesConfig } from './rules-config.js';
import { UNKNOWN } from '../kpis/partials.js';

export const GAS_LEAK_RULE = 'gas_leak';

export function gasLeakRule(rules: RulesConfig): ThresholdRule {
  const g = rules.gas;
  return new ThresholdRule(
    GAS_LEAK_RULE,
    'utility',
    () => [
      { severity: 'orange', atLeast: g.orangePct },
      { severity: 'red', atLeast: g.redPct },
    ],
    () => g.clearBelowPct,
  );
}

export function onGasReading(rule: ThresholdRule, ctx: StepContext, e: EventOf<'huitian.utility.reading'>): void {
  const d = e.data;
  if (d.metric !== 'gas_lel_pct') return;
  rule.onReading(ctx, d.lineId, e, d.value, (level) => ({
    district: d.district ?? UNKNOWN,
    title: `燃气泄漏${SEVERITY_ZH[level.severity]}预警：管线 ${d.lineId} 浓度 ${d.value}%LEL`,
    titleEn: `Gas leak ${level.severity} warning: line ${d.lineId} at ${d.value} %LEL`,
    message: `${d.lineId} 可燃气体浓度 ${d.value}%LEL，已达${SEVERITY_ZH[level.severity]}报警值 ${level.atLeast}%LEL，请立即排查并疏散周边人员。`,
    messageEn: `Combustible gas on line ${d.lineId} reads ${d.value} %LEL, at or above the ${level.severity} set point of ${level.atLeast} %LEL; inspect the line and clear the area.`,
  }));
}
