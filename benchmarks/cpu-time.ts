/**
 * CPU time over a measured window, for the Kafka figures: what the measured process used
 * (`process.cpuUsage`, every thread of it: the partials view's worker too) and what the
 * whole machine used (`/proc/stat`: the broker, the other processes). With it a result says
 * not only how fast, but what each record cost in CPU and how many cores were busy, which
 * bounds what more threads could give on the same machine (README, *Cluster mode*).
 */
import { readFileSync } from 'node:fs';

/** `/proc/stat` counts in USER_HZ ticks, 100 per second on every Linux architecture Node.js runs on. */
export const USER_HZ = 100;

export interface CpuMark {
  /** Epoch ms. */
  at: number;
  /** CPU this process used so far (user + system), µs. */
  processUs: number;
  /** Ticks every core of the machine spent busy and in total (undefined without `/proc/stat`). */
  machine: { busy: number; total: number } | undefined;
}

export interface CpuWindow {
  seconds: number;
  /** Cores the process kept busy on average. */
  processCores: number;
  /** CPU the process spent per record, µs. */
  processUsPerRecord: number;
  /** Cores the whole machine kept busy on average, and its CPU per record, µs (null without `/proc/stat`). */
  machineCores: number | null;
  machineUsPerRecord: number | null;
}

/**
 * The machine's busy and total ticks from the text of `/proc/stat`: its `cpu` line adds
 * every core's user, nice, system, idle, iowait, irq, softirq and steal; idle and iowait
 * are not busy (guest time is already in user and not added again).
 */
export function parseProcStat(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

export function cpuMark(): CpuMark {
  const u = process.cpuUsage();
  return { at: performance.timeOrigin + performance.now(), processUs: u.user + u.system, machine: machineTicks() };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function cpuWindow(from: CpuMark, to: CpuMark, records: number): CpuWindow {
  const seconds = (to.at - from.at) / 1000;
  const processUs = to.processUs - from.processUs;
  const busyUs = from.machine !== undefined && to.machine !== undefined ? ((to.machine.busy - from.machine.busy) * 1e6) / USER_HZ : undefined;
  return {
    seconds: round(seconds, 2),
    processCores: round(processUs / 1e6 / seconds, 2),
    processUsPerRecord: round(processUs / records, 2),
    machineCores: busyUs === undefined ? null : round(busyUs / 1e6 / seconds, 2),
    machineUsPerRecord: busyUs === undefined ? null : round(busyUs / records, 2),
  };
}

/**
 * The highest ratio the instance could reach on this machine at its CPU per record, if it
 * kept every core busy (threads without overhead, nothing else running): the machine's cores
 * over its CPU per record (broker included), over the floor's records per second.
 */
export function ratioBound(instance: CpuWindow, floorEps: number, cores: number): number | null {
  if (instance.machineUsPerRecord === null || instance.machineUsPerRecord <= 0 || floorEps <= 0) return null;
  return round((cores * 1e6) / instance.machineUsPerRecord / floorEps, 3);
}

/** The CPU figures of a Kafka run (`details.kafka.cpu`). */
export interface KafkaCpu {
  cores: number;
  instance: CpuWindow | null;
  floor: CpuWindow | null;
  ratioBound: number | null;
}

/** One line for the progress output and the summary; undefined when a window is missing. */
export function describeCpu(cpu: KafkaCpu): string | undefined {
  const { instance: i, floor: f } = cpu;
  if (i === null || f === null) return undefined;
  return (
    `kafka CPU per record: instance ${i.processUsPerRecord} µs (${i.processCores} cores busy; the machine ${i.machineUsPerRecord} µs, ${i.machineCores} of ${cpu.cores} cores), ` +
    `bare consumer ${f.processUsPerRecord} µs (${f.processCores}; machine ${f.machineUsPerRecord} µs, ${f.machineCores}); kafka_ratio with every core busy at this CPU per record: ${cpu.ratioBound ?? 'n/a'}`
  );
}
