/**
 * `huitian simulate --scenario S --start T --duration D --seed N [--rate-scale R]
 * [--faults P] [--out FILE.ndjson] [--truth FILE.json]`
 *
 * Writes a simulated CloudEvents NDJSON stream of the 回天 district (to stdout without
 * --out), then its ground truth: a short summary on stderr, and the whole of it as JSON
 * with --truth. Usage errors exit 2 (through commander), failures to write exit 1.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { LIMITS, parseDuration, parseStart, SCENARIOS, simulate, type ScenarioName } from '../simulator/simulate.js';
import { summariseTruth } from '../simulator/truth.js';

function parseScenario(text: string): ScenarioName {
  if (!(SCENARIOS as readonly string[]).includes(text)) throw new InvalidArgumentError(`must be one of ${SCENARIOS.join(', ')}`);
  return text as ScenarioName;
}

function parseStartOption(text: string): number {
  const ms = parseStart(text);
  if (ms === undefined) throw new InvalidArgumentError('must be an RFC 3339 time with offset, e.g. 2026-07-21T00:00:00+08:00');
  if (ms % 1000 !== 0) throw new InvalidArgumentError('must be in whole seconds');
  return ms;
}

function parseDurationOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError('must be a duration such as 90m, 24h, 7d or 1h30m');
  if (ms < 60_000 || ms > LIMITS.maxDurationMs) throw new InvalidArgumentError('must be from 1m to 31d');
  return ms;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function parseRateScale(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > LIMITS.maxRateScale) throw new InvalidArgumentError(`must be a number in (0, ${LIMITS.maxRateScale}]`);
  return n;
}

function parseFaults(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > LIMITS.maxFaults) throw new InvalidArgumentError(`must be a probability per event in [0, ${LIMITS.maxFaults}]`);
  return n;
}

interface SimulateCliOptions {
  scenario: ScenarioName;
  start: number;
  duration: number;
  seed: number;
  rateScale: number;
  faults: number;
  out?: string;
  truth?: string;
}

/** Lines are encoded straight into buffers of this size (one write per buffer, not per line). */
const CHUNK_BYTES = 1 << 20;

async function writeLines(lines: Iterable<string>, out: NodeJS.WritableStream | WriteStream): Promise<void> {
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  for (const line of lines) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    if (used + line.length * 3 + 1 > buf.length) {
      const full = buf.subarray(0, used);
      buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, line.length * 3 + 1));
      used = 0;
      if (!out.write(full)) await once(out, 'drain');
    }
    used += buf.write(line, used);
    buf[used++] = 0x0a;
  }
  if (used > 0) out.write(buf.subarray(0, used));
}

async function endStream(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('generate a CloudEvents NDJSON stream of the 回天 district (rainstorm, fire incidents, parking, gas leak) and its ground truth')
    .addOption(new Option('--scenario <name>', `what happens: ${SCENARIOS.join(' | ')}`).argParser(parseScenario).makeOptionMandatory())
    .addOption(new Option('--start <time>', 'first event time, RFC 3339 with offset').argParser(parseStartOption).default(Date.parse('2026-07-21T00:00:00+08:00'), '2026-07-21T00:00:00+08:00'))
    .addOption(new Option('--duration <d>', 'length of the stream: 90m, 24h, 7d, 1h30m …').argParser(parseDurationOption).default(86_400_000, '24h'))
    .addOption(new Option('--seed <n>', 'random seed; the same arguments give the same bytes').argParser(parseSeed).default(42))
    .addOption(new Option('--rate-scale <r>', 'multiplies event rates (more sensors, lots, lines, readings and incidents)').argParser(parseRateScale).default(1))
    .addOption(new Option('--faults <p>', 'probability per event of each producer fault: duplicate, out of order (≤ 45 s), late (> 120 s), malformed').argParser(parseFaults).default(0))
    .option('--out <file>', 'write the NDJSON stream here (default: stdout)')
    .option('--truth <file>', 'write the ground truth here as JSON')
    .action(async (opts: SimulateCliOptions) => {
      const sim = simulate({ scenario: opts.scenario, start: opts.start, durationMs: opts.duration, seed: opts.seed, rateScale: opts.rateScale, faults: opts.faults });
      if (opts.out === undefined) {
        // `huitian simulate … | head` closes the pipe early: stop quietly, as Unix tools do.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') process.exit(0);
          throw err;
        });
        await writeLines(sim, process.stdout);
      } else {
        const file = createWriteStream(opts.out);
        // Open errors (a missing directory, no permission) surface here as a failure (exit 1).
        await new Promise<void>((resolve, reject) => {
          file.once('open', () => resolve());
          file.once('error', (err) => reject(new Error(`cannot write ${opts.out}: ${err.message}`)));
        });
        await writeLines(sim, file);
        await endStream(file);
      }
      const truth = sim.truth();
      if (opts.truth !== undefined) {
        try {
          writeFileSync(opts.truth, `${JSON.stringify(truth, null, 2)}\n`);
        } catch (err) {
          throw new Error(`cannot write ${opts.truth}: ${(err as Error).message}`);
        }
      }
      process.stderr.write(summariseTruth(truth));
    });
}
