/** What every scenario generator is given: the window, the seed and the rate scale. */
import { Rng } from './prng.js';
import { replicaPlan } from './sim-event.js';

export interface ScenarioContext {
  /** Epoch ms; events are generated in [start, end). */
  start: number;
  end: number;
  seed: number;
  rateScale: number;
  /** Copies of each reference entity (see `replicaPlan`). */
  copies: number;
  /** Factor on every reading interval, so that copies ÷ factor = rateScale. */
  intervalFactor: number;
}

export function scenarioContext(start: number, end: number, seed: number, rateScale: number): ScenarioContext {
  return { start, end, seed, rateScale, ...replicaPlan(rateScale) };
}

/** The random stream of one named entity or process. */
export function rngFor(ctx: ScenarioContext, name: string): Rng {
  return new Rng(ctx.seed, name);
}

/** A reading interval scaled by the rate, in whole seconds (≥ 1 s), as ms. */
export function scaledIntervalMs(ctx: ScenarioContext, baseSeconds: number): number {
  return Math.max(1, Math.round(baseSeconds * ctx.intervalFactor)) * 1000;
}

/** `x` clamped to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Rounds to `digits` decimals for the wire (values are compared exactly, so this is the one place they are rounded). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Piecewise-linear interpolation over keyframes [x, y] sorted by x. */
export function interpolate(keys: ReadonlyArray<readonly [number, number]>, x: number): number {
  const first = keys[0]!;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < keys.length; i++) {
    const [x1, y1] = keys[i]!;
    if (x <= x1) {
      const [x0, y0] = keys[i - 1]!;
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return keys[keys.length - 1]![1];
}
