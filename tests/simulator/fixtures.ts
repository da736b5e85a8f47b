/** Shared option sets for the simulator tests. */
import { parseDuration, simulate, type ScenarioName, type SimulateOptions } from '../../src/simulator/simulate.js';
import type { Truth } from '../../src/simulator/truth.js';

export const START = Date.parse('2026-07-21T00:00:00+08:00');

export function options(scenario: ScenarioName, duration: string, extra: Partial<SimulateOptions> = {}): SimulateOptions {
  return { scenario, start: START, durationMs: parseDuration(duration)!, seed: 42, rateScale: 1, faults: 0, ...extra };
}

/** Runs a simulation to the end: its lines and its truth. */
export function generate(o: SimulateOptions): { lines: string[]; truth: Truth } {
  const sim = simulate(o);
  const lines = [...sim];
  return { lines, truth: sim.truth() };
}
