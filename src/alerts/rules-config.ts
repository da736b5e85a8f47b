/**
 * Alert rule thresholds (defaults from the issue and the standards cited beside each),
 * validated once at start-up: every inconsistency is listed in one error.
 */
import { z } from 'zod';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

export const rulesConfigSchema = z
  // Strict: a misspelt rule or threshold would otherwise leave the default silently in force.
  .strictObject({
    waterlogging: z
      .strictObject({
        // 15/27/40 cm: the district's road-waterlogging warning steps (a car's exhaust
        // pipe sits near 27 cm; 40 cm stalls most cars and closes the road).
        yellowCm: nonNegative.default(15),
        orangeCm: nonNegative.default(27),
        redCm: nonNegative.default(40),
        clearBelowCm: nonNegative.default(10),
      })
      .prefault({}),
    gas: z
      .strictObject({
        // GB 15322 / GB 50493 alarm set points: 20 %LEL first level, 50 %LEL second level.
        orangePct: nonNegative.default(20),
        redPct: nonNegative.default(50),
        clearBelowPct: nonNegative.default(10),
      })
      .prefault({}),
    parking: z
      .strictObject({
        fullRatio: positive.default(0.95),
        forSeconds: nonNegative.default(300),
        clearBelowRatio: nonNegative.default(0.9),
      })
      .prefault({}),
    dispatch: z
      .strictObject({
        // 建标152: a company reaches the edge of its district within 5 min of the order.
        responseSeconds: positive.default(300),
      })
      .prefault({}),
    sensorSilence: z
      .strictObject({
        afterSeconds: positive.default(600),
      })
      .prefault({}),
    kpiBreach: z
      .strictObject({
        // Unset: the KPI catalogue's target (fire_response_coverage_5min, 0.80), kept in one place.
        target: z.number().min(0).max(1).optional(),
        windowHours: positive.default(24),
        minDecided: z.number().int().positive().default(10),
      })
      .prefault({}),
  })
  .superRefine((r, ctx) => {
    const order = (path: string[], ok: boolean, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    const w = r.waterlogging;
    order(['waterlogging', 'orangeCm'], w.orangeCm > w.yellowCm, 'must be greater than yellowCm');
    order(['waterlogging', 'redCm'], w.redCm > w.orangeCm, 'must be greater than orangeCm');
    order(['waterlogging', 'clearBelowCm'], w.clearBelowCm <= w.yellowCm, 'must not exceed yellowCm (hysteresis)');
    order(['gas', 'redPct'], r.gas.redPct > r.gas.orangePct, 'must be greater than orangePct');
    order(['gas', 'clearBelowPct'], r.gas.clearBelowPct <= r.gas.orangePct, 'must not exceed orangePct (hysteresis)');
    order(['parking', 'clearBelowRatio'], r.parking.clearBelowRatio <= r.parking.fullRatio, 'must not exceed fullRatio (hysteresis)');
  });

export type RulesConfig = z.output<typeof rulesConfigSchema>;
export type RulesConfigInput = z.input<typeof rulesConfigSchema>;

export const DEFAULT_RULES: RulesConfig = rulesConfigSchema.parse({});
