/** `huitian replay FILE.ndjson --to URL [--speed 60|max] [--token T]` */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { DEFAULT_TIME_ZONE, isTimeZone } from '../time/time-zone.js';
import { HttpReplayTarget } from '../replay/http-target.js';
import { replay } from '../replay/replay.js';
import type { ReplayTarget } from '../replay/replay-target.js';
import { describeProgress, ProgressLine } from './progress.js';

export function parseSpeed(text: string): number {
  if (text === 'max') return Number.POSITIVE_INFINITY;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number (event-time seconds per wall second) or "max"');
  return n;
}

/** Builds the target for a `--to` URL. Kafka and NATS targets are loaded only when used. */
export async function targetFor(to: string, token: string | undefined, onBackoff: (ms: number, why: string) => void): Promise<ReplayTarget> {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new InvalidArgumentError(`--to ${to}: not a URL (http://host:port, kafka://host:port or nats://host:port)`);
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return new HttpReplayTarget({ baseUrl: to, token, onBackoff });
    case 'kafka:': {
      const { KafkaReplayTarget } = await import('../kafka/kafka-replay-target.js');
      return KafkaReplayTarget.connect(url);
    }
    case 'nats:': {
      const { NatsReplayTarget } = await import('../nats/nats-replay-target.js');
      return NatsReplayTarget.connect(url);
    }
    default:
      throw new InvalidArgumentError(`--to ${to}: unsupported scheme ${url.protocol} (use http, kafka or nats)`);
  }
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('send a recorded NDJSON stream to the service (HTTP), Kafka or NATS at a speed factor of event time')
    .argument('<file>', 'CloudEvents NDJSON file, e.g. from `huitian simulate`')
    .option('--to <url>', 'http://host:port (the API), kafka://host:port or nats://host:port', 'http://127.0.0.1:8080')
    .option('--speed <factor>', 'event-time seconds per wall second, or "max"', parseSpeed, Number.POSITIVE_INFINITY)
    .option('--token <token>', 'bearer token with the ingest role (HTTP) [HUITIAN_TOKEN]')
    .option('--timezone <zone>', 'IANA time zone of the times printed [HUITIAN_TIMEZONE]', (v) => {
      if (!isTimeZone(v)) throw new InvalidArgumentError('must be an IANA time zone name, e.g. Asia/Shanghai or UTC');
      return v;
    })
    .option('--batch-size <n>', 'events per request', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('must be an integer from 1 to 100000');
      return n;
    }, 1000)
    .action(async (file: string, opts: { to: string; speed: number; token?: string; timezone?: string; batchSize: number }, cmd: Command) => {
      if (!existsSync(file)) cmd.error(`huitian replay: no such file: ${file}`, { exitCode: 2 });
      const zone = opts.timezone ?? process.env.HUITIAN_TIMEZONE ?? DEFAULT_TIME_ZONE;
      if (!isTimeZone(zone)) cmd.error(`huitian replay: HUITIAN_TIMEZONE=${zone} is not an IANA time zone name (e.g. Asia/Shanghai or UTC)`, { exitCode: 2 });
      const progressLine = new ProgressLine(zone);
      const target = await targetFor(opts.to, opts.token ?? process.env.HUITIAN_TOKEN, (ms, why) =>
        process.stderr.write(`\nhuitian replay: ${why}; waiting ${Math.round(ms / 100) / 10} s\n`),
      );
      try {
        const result = await replay({ file, target, speed: opts.speed, batchSize: opts.batchSize, onProgress: (p) => progressLine.update(p, target.reportsOutcomes === true) });
        progressLine.done();
        process.stderr.write(
          `replayed ${file} to ${target.description} in ${(result.elapsedMs / 1000).toFixed(1)} s\n${describeProgress(result, zone, target.reportsOutcomes === true)}\n`,
        );
      } finally {
        await target.close();
      }
    });
}
