/**
 * `npm run bench [-- --json] [--out FILE] [--events N] [--crossings N] [--entities N] [--dedup-bound-mb N] [--cpu-prof DIR] [--influx-only]`
 *
 * Runs the benchmark (see benchmarks/README.md) and prints a table of the figures beside
 * their targets, or with --json one JSON object. Progress goes to stderr. A missed target
 * is printed as MISS with its number; the exit code is 0 either way (the figures are a
 * report, not a gate), 1 only when the benchmark itself fails.
 */
import { writeFileSync } from 'node:fs';
import { describeCpu } from './cpu-time.js';
import { ensureKafka } from './kafka-service.js';
import { KAFKA_TARGETS, runInfluxOnly, runKafkaOnly, runSuite, TARGETS, type KafkaTargetName, type Results, type TargetName, type TargetRule } from './suite.js';

interface CliOptions {
  json: boolean;
  out: string | undefined;
  maxEvents: number | undefined;
  crossings: number | undefined;
  entities: number | undefined;
  dedupBoundMb: number | undefined;
  cpuProfDir: string | undefined;
  influxOnly: boolean;
  kafkaOnly: boolean;
  failover: boolean;
  /** Kafka for the cluster figures: a broker address, 'services' (scripts/services.sh), or 'none'. */
  kafka: string;
}

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run bench -- [--json] [--out FILE] [--events N] [--crossings N] [--entities N] [--dedup-bound-mb N] [--cpu-prof DIR] [--influx-only] [--kafka-only [--no-failover]] [--kafka HOST:PORT | --no-kafka]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { json: false, out: undefined, maxEvents: undefined, crossings: undefined, entities: undefined, dedupBoundMb: undefined, cpuProfDir: undefined, influxOnly: false, kafkaOnly: false, failover: true, kafka: 'services' };
  const count = (name: string, text: string | undefined): number => {
    const n = Number(text);
    if (text === undefined || !/^\d+$/.test(text) || n <= 0) usage(`${name} needs a positive whole number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--json':
        o.json = true;
        break;
      case '--influx-only':
        o.influxOnly = true;
        break;
      case '--kafka-only':
        o.kafkaOnly = true;
        break;
      case '--no-failover':
        o.failover = false;
        break;
      case '--out':
        o.out = argv[++i] ?? usage('--out needs a file');
        break;
      case '--events':
        o.maxEvents = count(a, argv[++i]);
        break;
      case '--crossings':
        o.crossings = count(a, argv[++i]);
        break;
      case '--entities':
        o.entities = count(a, argv[++i]);
        break;
      case '--dedup-bound-mb':
        o.dedupBoundMb = count(a, argv[++i]);
        break;
      case '--cpu-prof':
        o.cpuProfDir = argv[++i] ?? usage('--cpu-prof needs a directory');
        break;
      case '--kafka':
        o.kafka = argv[++i] ?? usage('--kafka needs HOST:PORT');
        break;
      case '--no-kafka':
        o.kafka = 'none';
        break;
      case '--help':
      case '-h':
        usage('npm run bench: throughput, alert latency and memory of huitian-brain');
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  return o;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function formatTarget(rule: TargetRule): string {
  return 'min' in rule ? `≥ ${rule.min.toLocaleString('en-US')}` : `≤ ${rule.max.toLocaleString('en-US')}`;
}

export function table(r: Results): string {
  const rows: Array<[string, string, string, string]> = [
    ['json_parse_eps', `${int(r.json_parse_eps)} /s`, '', ''],
    ['decode_eps', `${int(r.decode_eps)} /s`, '', ''],
    ['engine_eps', `${int(r.engine_eps)} /s`, '', ''],
  ];
  const shown: Record<TargetName, string> = {
    engine_ratio: r.engine_ratio.toFixed(3),
    http_eps: `${int(r.http_eps)} /s`,
    alert_latency_ms_p99: `${r.alert_latency_ms_p99.toFixed(1)} ms`,
    rss_mb_100k_entities: `${int(r.rss_mb_100k_entities)} MB`,
    checkpoint_stall_ms_max: `${r.checkpoint_stall_ms_max.toFixed(1)} ms`,
  };
  for (const name of Object.keys(TARGETS) as TargetName[]) {
    const t = r.targets[name];
    rows.push([name, shown[name], formatTarget(t), t.ok ? 'ok' : 'MISS']);
  }
  if (r.kafka_eps !== undefined) {
    rows.push(['kafka_eps', `${int(r.kafka_eps)} /s`, '', '']);
    rows.push(['kafka_floor_eps', `${int(r.kafka_floor_eps!)} /s`, '', '']);
    const kshown: Record<KafkaTargetName, string> = { kafka_ratio: r.kafka_ratio!.toFixed(3), failover_s: `${r.failover_s!.toFixed(1)} s` };
    for (const name of Object.keys(KAFKA_TARGETS) as KafkaTargetName[]) {
      const t = r.targets[name]!;
      rows.push([name, kshown[name], formatTarget(t), t.ok ? 'ok' : 'MISS']);
    }
  }
  rows.push(['dedup_mb_at_bound', `${r.dedup_mb_at_bound.toFixed(0)} MB`, `bound ${r.details.dedupBound.boundMb} MB`, '']);
  rows.push(['influx_query_ms_max', r.influx_query_ms_max === null ? 'skipped (no HUITIAN_INFLUX_URL)' : `${int(r.influx_query_ms_max)} ms`, '≤ 2,000', '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['figure', 'measured', 'target', ''][i]!.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  const m = r.machine;
  const s = r.stream;
  const d = r.details;
  return [
    `huitian-brain benchmark — ${r.date.slice(0, 10)}, ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node} (${m.platform}/${m.arch})`,
    `stream: ${s.scenario} ${s.duration} from ${s.start}, seed ${s.seed}, rate ×${s.rateScale}, faults ${s.faults} — ${int(s.events)} events (${int(s.bytes / 1e6)} MB) in batches of ${int(s.batchLines)}`,
    '',
    line(['figure', 'measured', 'target', '']),
    line(widths.map((w) => '─'.repeat(w))),
    ...rows.map(line),
    '',
    `engine: ${int(d.inProcess.engine.accepted)} accepted, ${int(d.inProcess.engine.duplicates)} duplicates, ${int(d.inProcess.engine.late)} late, ${int(d.inProcess.decodeRejected)} invalid; ${int(d.inProcess.partials)} KPI partials, ${int(d.inProcess.alertChanges)} alert transitions`,
    `http: ${int(d.http.requests)} POSTs of ${int(s.batchLines)} NDJSON lines in ${d.http.seconds.toFixed(1)} s on one keep-alive connection; server RSS at the end ${int(d.http.serverRssMb)} MB`,
    `alert latency: ${d.alertLatency.crossings} crossings, ${d.alertLatency.load}; p50 ${d.alertLatency.p50.toFixed(1)} ms, max ${d.alertLatency.max.toFixed(1)} ms`,
    `alert latency under ${d.alertLatencyLightLoad.load}: p99 ${d.alertLatencyLightLoad.alert_latency_ms_p99.toFixed(1)} ms, p50 ${d.alertLatencyLightLoad.p50.toFixed(1)} ms, max ${d.alertLatencyLightLoad.max.toFixed(1)} ms (${int(d.alertLatencyLightLoad.backgroundEvents)} background readings)`,
    `checkpoint: ${int(d.dedupBound.keys)} remembered ids, ${d.checkpoint.checkpoints} checkpoints of ${d.checkpoint.chunks} chunks (${int(d.checkpoint.snapshotMb)} MB, ${d.checkpoint.checkpointSeconds} s each) during ${int(d.checkpoint.requests)} requests (${int(d.checkpoint.requestsDuringCheckpoints)} during them: p50 ${d.checkpoint.p50DuringMs} ms; outside p50 ${d.checkpoint.p50OutsideMs} ms, max ${d.checkpoint.maxOutsideMs} ms); longest hold of the event loop ${d.checkpoint.longestPauseMs} ms (capture ${d.checkpoint.captureMs} ms); before chunks one checkpoint blocked ${int(d.checkpoint.before.stringifyMs + d.checkpoint.before.writeMs)} ms (JSON ${int(d.checkpoint.before.mb)} MB)`,
    `dedup at its bound: ${int(d.dedupBound.keys)} ids (${int(d.dedupBound.evictedKeys)} forgotten early) from ${int(d.dedupBound.events)} events; estimated ${d.dedupBound.estimatedMb} MB, heap + array buffers ${r.dedup_mb_at_bound} MB, RSS ${int(d.dedupBound.rssMb)} MB`,
    `memory: ${int(d.memory.entities)} entities (${int(d.memory.stats.waterloggingPoints)} sensors, ${int(d.memory.stats.parkingLots)} lots, ${int(d.memory.stats.pendingIncidents)} open incidents) from ${int(d.memory.events)} events; heap ${int(d.memory.heapUsedMb)} MB; the same process before ingesting: ${int(d.memory.baselineRssMb)} MB`,
    ...(d.kafka === undefined
      ? []
      : [
          `kafka: ${int(d.kafka.records)} records in ${d.kafka.partitions} partitions (produced in ${d.kafka.produceSeconds} s); one instance ${d.kafka.seconds.instance} s (RSS ${int(d.kafka.instanceRssMb)} MB), bare consumer ${d.kafka.seconds.floor} s; failover of ${d.kafka.failover.tasks} tasks: assigned after ${d.kafka.failover.assignedS} s (session timeout ${d.kafka.failover.sessionTimeoutS} s), restored after ${d.kafka.failover.restoredS} s, ${int(d.kafka.failover.lagAtRestore)} records to re-read`,
          ...(d.kafka.twoInstances == null
            ? []
            : [`kafka: two instances in one group (the failover run's catch-up) ${int(d.kafka.twoInstances.eps)} /s in ${d.kafka.twoInstances.seconds} s, ${d.kafka.twoInstances.speedup}× one instance, ratio ${d.kafka.twoInstances.ratio}`]),
          ...(d.kafka.cpu === undefined ? [] : [describeCpu(d.kafka.cpu)].filter((l) => l !== undefined)),
        ]),
  ].join('\n');
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.influxOnly) {
    // Only influx_query_ms_max (needs HUITIAN_INFLUX_URL, e.g. from scripts/services.sh env).
    const r = await runInfluxOnly({ influxUrl: process.env.HUITIAN_INFLUX_URL ?? '', ...(cli.maxEvents !== undefined ? { maxEvents: cli.maxEvents } : {}), progress: (l) => process.stderr.write(`${l}\n`) });
    if (r === null) throw new Error('--influx-only needs HUITIAN_INFLUX_URL (an InfluxDB 1.8 with auth off; database huitian_bench is dropped and recreated)');
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const say = (l: string) => process.stderr.write(`${l}\n`);
  const kafka = cli.kafka === 'none' ? undefined : cli.kafka === 'services' ? await ensureKafka(say) : { brokers: cli.kafka, stop: () => undefined };
  const serverNodeFlags = cli.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cli.cpuProfDir}`];
  if (cli.kafkaOnly) {
    // Only the cluster figures (kafka_eps, kafka_floor_eps, kafka_ratio, failover_s), as JSON: merged into results.json by hand.
    if (kafka === undefined) usage('--kafka-only needs Kafka (not --no-kafka)');
    const r = await runKafkaOnly({
      kafkaBrokers: kafka.brokers,
      failover: cli.failover,
      serverNodeFlags,
      ...(cli.maxEvents !== undefined ? { maxEvents: cli.maxEvents } : {}),
      progress: say,
    }).finally(() => kafka.stop());
    const json = `${JSON.stringify({ ...r, command: `npm run bench -- ${process.argv.slice(2).join(' ')}` }, null, 2)}\n`;
    if (cli.out !== undefined) writeFileSync(cli.out, json);
    process.stdout.write(json);
    return;
  }
  const results = await runSuite({
    kafkaBrokers: kafka?.brokers,
    ...(cli.maxEvents !== undefined ? { maxEvents: cli.maxEvents } : {}),
    ...(cli.crossings !== undefined ? { crossings: cli.crossings } : {}),
    ...(cli.entities !== undefined ? { entities: cli.entities } : {}),
    ...(cli.dedupBoundMb !== undefined ? { dedupBoundMb: cli.dedupBoundMb } : {}),
    influxUrl: process.env.HUITIAN_INFLUX_URL ?? '',
    serverNodeFlags,
    progress: say,
  }).finally(() => kafka?.stop());
  const args = process.argv.slice(2);
  results.command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (cli.out !== undefined) writeFileSync(cli.out, json);
  process.stdout.write(cli.json ? json : `${table(results)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
