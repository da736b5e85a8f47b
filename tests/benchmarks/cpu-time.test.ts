/**
 * The Kafka benchmark's CPU accounting (benchmarks/cpu-time.ts): the machine's busy ticks
 * from /proc/stat, a window's cores and CPU per record, and the ratio bound derived from
 * them, on hand-made marks whose answers are worked out below.
 */
import { describe, expect, it } from 'vitest';
import { cpuMark, cpuWindow, parseProcStat, ratioBound, type CpuMark } from '../../benchmarks/cpu-time.js';

describe('parseProcStat', () => {
  it('counts every field of the cpu line but idle and iowait as busy', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const text = 'cpu  300 10 60 8000 40 0 20 5 7 0\ncpu0 150 5 30 4000 20 0 10 2 3 0\nintr 1 2 3\n';
    expect(parseProcStat(text)).toEqual({ busy: 300 + 10 + 60 + 20 + 5, total: 300 + 10 + 60 + 8000 + 40 + 20 + 5 });
  });

  it('answers undefined for text without a cpu line', () => {
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
    expect(parseProcStat('cpu  a b c d\n')).toBeUndefined();
  });

  it('reads this machine (Linux)', () => {
    const m = cpuMark();
    expect(m.processUs).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(m.machine!.total).toBeGreaterThan(m.machine!.busy);
  });
});

describe('cpuWindow and ratioBound', () => {
  const from: CpuMark = { at: 1_000_000, processUs: 5_000_000, machine: { busy: 10_000, total: 50_000 } };
  // 4 s later: the process used 6 s of CPU (1.5 cores), the machine 700 ticks = 7 s (1.75 cores).
  const to: CpuMark = { at: 1_004_000, processUs: 11_000_000, machine: { busy: 10_700, total: 50_800 } };

  it('gives cores busy and CPU per record for the process and the machine', () => {
    expect(cpuWindow(from, to, 200_000)).toEqual({ seconds: 4, processCores: 1.5, processUsPerRecord: 30, machineCores: 1.75, machineUsPerRecord: 35 });
  });

  it('leaves the machine out when /proc/stat was not read', () => {
    const w = cpuWindow({ ...from, machine: undefined }, to, 200_000);
    expect(w.machineCores).toBeNull();
    expect(w.machineUsPerRecord).toBeNull();
    expect(ratioBound(w, 100_000, 2)).toBeNull();
  });

  it('bounds the ratio by the cores over the CPU per record', () => {
    // 2 cores at 35 µs per record: at most 57,142.9 records/s; the floor at 100,000/s.
    expect(ratioBound(cpuWindow(from, to, 200_000), 100_000, 2)).toBe(0.571);
  });
});
