/**
 * CAP identifiers in a cluster (docs/cluster.md §10). GB/T 35965.1 numbers an issuer's
 * messages of one second 0, 1, 2…; single mode numbers them in the order its one store
 * writes versions, but in a cluster every instance reads `G.alerts` in its own interleaving,
 * so only a total order can number them alike everywhere: the global task's, `G.global`'s one
 * partition. The global task numbers each alert version the first time it meets it — a task's
 * transition the stage accepts (not a repeat), the global stage's own, or the version a
 * notification carries (the stage's view, as single mode's renderer numbers it) — and writes
 * the numbers to `G.notifications`, which every instance mirrors. Pure and checkpointed with
 * the task, so a restored owner re-reading from its checkpoint numbers exactly as the first.
 *
 * Memory: the count of every second and the numbered versions of every alert numbered within
 * CAP_MEMORY_MS (7 days, as the stage's memory of resolved alerts) of the newest second
 * numbered. A version whose second is further behind than that is numbered from a count that
 * has been forgotten (its identifier could repeat one given 7 days of stream time earlier), and
 * a version of an alert forgotten meanwhile references no previous message.
 */
import type { Alert } from '../alerts/alert.js';
import { versionOf } from '../alerts/alert.js';
import { capIdentifier, capSentSecondOf } from '../cap/identifier.js';
import type { CapMessageRef, CapNumbered } from '../ports.js';

/** `G.notifications` record `c|<alert id>|<version>`: the CAP message of one alert version. */
export interface CapAssignment extends CapMessageRef {
  alertId: string;
  /** The message this one references (the alert's newest numbered version below it), or null. */
  previous: { identifier: string; sent: number } | null;
}

export const CAP_MEMORY_MS = 7 * 24 * 3600_000;

type Ref = [version: number, identifier: string, sent: number, previousIdentifier: string | null, previousSent: number | null];

export interface CapNumberingSnapshot {
  seconds: Array<[number, number]>;
  alerts: Array<[string, Ref[]]>;
  newest: number;
  /** When it last pruned (so a restored owner prunes when the first would have). */
  prunedAt?: number;
}

export class CapNumbering {
  /** Messages numbered per second (epoch ms of the second). */
  private readonly seconds = new Map<number, number>();
  /** Per alert its numbered versions, ascending; insertion order = last numbered. */
  private readonly alerts = new Map<string, Ref[]>();
  private newest = Number.NEGATIVE_INFINITY;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly issuerCode: string,
    snapshot?: CapNumberingSnapshot,
  ) {
    if (snapshot === undefined) return;
    for (const [s, n] of snapshot.seconds) this.seconds.set(s, n);
    for (const [id, refs] of snapshot.alerts) this.alerts.set(id, refs.map((r) => [...r] as Ref));
    this.newest = snapshot.newest ?? Number.NEGATIVE_INFINITY;
    this.prunedAt = snapshot.prunedAt ?? Number.NEGATIVE_INFINITY;
  }

  /** Numbers the alert's version unless it has one; returns the new number, or undefined. */
  number(a: Alert, version: number = versionOf(a)): CapAssignment | undefined {
    const refs = this.alerts.get(a.id);
    if (refs !== undefined && refs.some((r) => r[0] === version)) return undefined;
    const second = capSentSecondOf(a);
    const n = this.seconds.get(second) ?? 0;
    this.seconds.set(second, n + 1);
    const identifier = capIdentifier(this.issuerCode, second, n);
    let previous: Ref | undefined;
    for (const r of refs ?? []) if (r[0] < version) previous = r;
    const ref: Ref = [version, identifier, second, previous?.[1] ?? null, previous?.[2] ?? null];
    const list = refs ?? [];
    list.push(ref);
    list.sort((x, y) => x[0] - y[0]);
    this.alerts.delete(a.id);
    this.alerts.set(a.id, list);
    if (second > this.newest) this.newest = second;
    this.prune();
    return assignmentOf(a.id, ref);
  }

  /** The numbered message of an alert version, with the one it references. */
  find(alertId: string, version: number): CapNumbered | undefined {
    const r = this.alerts.get(alertId)?.find((x) => x[0] === version);
    if (r === undefined) return undefined;
    const a = assignmentOf(alertId, r);
    return { message: { version: a.version, identifier: a.identifier, sent: a.sent }, previous: a.previous };
  }

  private prune(): void {
    // At most once a minute of stream time; the walk is over the week's seconds and alerts.
    if (this.newest - this.prunedAt < 60_000) return;
    this.prunedAt = this.newest;
    const horizon = this.newest - CAP_MEMORY_MS;
    for (const s of this.seconds.keys()) if (s < horizon) this.seconds.delete(s);
    for (const [id, refs] of this.alerts) {
      let last = Number.NEGATIVE_INFINITY;
      for (const r of refs) if (r[2] > last) last = r[2];
      if (last < horizon) this.alerts.delete(id);
    }
  }

  snapshot(): CapNumberingSnapshot {
    return { seconds: [...this.seconds], alerts: [...this.alerts].map(([id, refs]) => [id, refs.map((r) => [...r] as Ref)]), newest: this.newest, prunedAt: this.prunedAt };
  }
}

function assignmentOf(alertId: string, r: Ref): CapAssignment {
  return { alertId, version: r[0], identifier: r[1], sent: r[2], previous: r[3] === null ? null : { identifier: r[3], sent: r[4]! } };
}
