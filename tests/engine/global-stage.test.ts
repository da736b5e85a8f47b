/**
 * The global stage (docs/cluster.md §5): `kpi_breach` from the minute reports of the
 * dispatch tasks. A boundary is evaluated once every task reached it, from the reports up
 * to it, so the outcome never depends on how the tasks' reports interleave, on repeats
 * after a takeover, or on a handoff of the stage itself.
 */
import { describe, expect, it } from 'vitest';
import { alertIdOf } from '../../src/alerts/alert-book.js';
import type { AlertChange } from '../../src/alerts/alert.js';
import { COVERAGE_ENTITY, KPI_BREACH_RULE } from '../../src/alerts/kpi-breach.js';
import { DEFAULT_RULES } from '../../src/alerts/rules-config.js';
import { GlobalStage, type TaskReport } from '../../src/engine/global-stage.js';
import { Rng } from '../../src/simulator/prng.js';

const MIN = 60_000;
const T0 = Date.parse('2026-07-21T00:00:00Z');
const TASKS = ['d-0', 'd-1'];

const report = (task: string, minute: number, buckets?: Array<[number, number, number]>): TaskReport =>
  buckets === undefined ? { task, reached: T0 + minute * MIN } : { task, reached: T0 + minute * MIN, boundary: T0 + minute * MIN, buckets };

/**
 * Each task decides incidents of minute 0; by minute 5 the district has 6 of 12 covered
 * (a breach), by minute 9 d-1 has decided 10 more, all covered: 16 of 22 is still below
 * 0.80, 18 of 22 at minute 12 is not.
 */
function streams(): Record<string, TaskReport[]> {
  return {
    'd-0': [report('d-0', 1), report('d-0', 5, [[T0, 2, 6]]), report('d-0', 7), report('d-0', 12, [[T0, 4, 6]]), report('d-0', 20)],
    'd-1': [report('d-1', 3), report('d-1', 5, [[T0, 4, 6]]), report('d-1', 9, [[T0, 14, 16]]), report('d-1', 20)],
  };
}

/** One interleaving of the tasks' streams, with some reports repeated (a re-read after a takeover). */
function interleave(rng: Rng): TaskReport[] {
  const s = streams();
  const out: TaskReport[] = [];
  const pos: Record<string, number> = { 'd-0': 0, 'd-1': 0 };
  while (TASKS.some((t) => pos[t]! < s[t]!.length)) {
    const t = TASKS.filter((x) => pos[x]! < s[x]!.length)[rng.int(0, 1) % TASKS.filter((x) => pos[x]! < s[x]!.length).length]!;
    out.push(s[t]![pos[t]!]!);
    if (pos[t]! > 0 && rng.chance(0.3)) out.push(s[t]![rng.int(0, pos[t]!)]!);
    pos[t]!++;
  }
  return out;
}

const transitions = (changes: readonly AlertChange[]) => changes.map((c) => [c.action, c.alert.id, c.alert.history.at(-1)!.at, c.alert.value]);

describe('GlobalStage', () => {
  it('evaluates a minute only once every dispatch task has reached it', () => {
    const stage = new GlobalStage(DEFAULT_RULES, TASKS);
    expect(stage.onReport(report('d-0', 5, [[T0, 2, 6]])).alerts).toEqual([]);
    expect(stage.onReport(report('d-0', 30)).alerts).toEqual([]);
    expect(stage.stats().next).toBeNull();
    // d-1 reaches minute 5 with its counts: 6 of 12 covered, a breach opened at minute 5.
    const step = stage.onReport(report('d-1', 5, [[T0, 4, 6]]));
    expect(transitions(step.alerts)).toEqual([['opened', alertIdOf(KPI_BREACH_RULE, COVERAGE_ENTITY, T0 + 5 * MIN), T0 + 5 * MIN, 0.5]]);
  });

  it('gives the same transitions for every interleaving of the tasks’ reports, repeats included', () => {
    const expected = (() => {
      const stage = new GlobalStage(DEFAULT_RULES, TASKS);
      return transitions([...streams()['d-0']!, ...streams()['d-1']!].flatMap((r) => stage.onReport(r).alerts));
    })();
    expect(expected.map((t) => [t[0], t[2]])).toEqual([
      ['opened', T0 + 5 * MIN],
      ['resolved', T0 + 12 * MIN],
    ]);
    for (let seed = 0; seed < 30; seed++) {
      const stage = new GlobalStage(DEFAULT_RULES, TASKS);
      const got = transitions(interleave(new Rng(seed, 'interleave')).flatMap((r) => stage.onReport(r).alerts));
      expect(got, `seed ${seed}`).toEqual(expected);
    }
  });

  it('carries on from its snapshot on another owner without opening the breach twice', () => {
    const all = interleave(new Rng(7, 'handoff'));
    const whole = new GlobalStage(DEFAULT_RULES, TASKS);
    const expected = transitions(all.flatMap((r) => whole.onReport(r).alerts));
    for (let cut = 0; cut <= all.length; cut++) {
      const first = new GlobalStage(DEFAULT_RULES, TASKS);
      const before = all.slice(0, cut).flatMap((r) => first.onReport(r).alerts);
      const second = GlobalStage.restore(DEFAULT_RULES, TASKS, JSON.parse(JSON.stringify(first.snapshot())));
      // The next owner re-reads a few reports the first had applied after its checkpoint.
      const after = all.slice(Math.max(0, cut - 2)).flatMap((r) => second.onReport(r).alerts);
      const seen = new Map<string, unknown>();
      for (const t of [...transitions(before), ...transitions(after)]) seen.set(JSON.stringify(t), t);
      expect([...seen.values()], `cut ${cut}`).toEqual(expected);
    }
  });

  it('stamps an operator’s acknowledgement with the last minute evaluated', () => {
    const stage = new GlobalStage(DEFAULT_RULES, TASKS);
    for (const r of [...streams()['d-0']!.slice(0, 2), ...streams()['d-1']!.slice(0, 2)]) stage.onReport(r);
    const id = alertIdOf(KPI_BREACH_RULE, COVERAGE_ENTITY, T0 + 5 * MIN);
    const ack = stage.acknowledge(id, '值班员', undefined);
    expect(ack.ok).toBe(true);
    if (ack.ok) expect(ack.alert.acknowledgedAt).toBe(stage.clock);
    expect(stage.acknowledge(id, '值班员', undefined).ok).toBe(false);
  });
});
