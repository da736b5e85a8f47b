/** `huitian serve`: the service (what `npm start` runs). Every HUITIAN_* variable is also a flag. */
import { Command, Option } from 'commander';
import { CONFIG_FIELDS, loadConfig, type ConfigOverrides } from '../config.js';
import { HuitianError } from '../errors.js';
import type { Service } from '../service.js';
import { EXIT_FAILURE, EXIT_USAGE } from './main.js';

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds one option per configuration field; returns a reader of the given ones. */
export function addConfigOptions(cmd: Command): (opts: Record<string, unknown>) => ConfigOverrides {
  for (const [, spec] of Object.entries(CONFIG_FIELDS)) {
    cmd.addOption(new Option(`${spec.flag} <value>`, `${spec.description} [${spec.env}]`));
  }
  cmd.addOption(new Option('--config <file>', 'JSON configuration file (keys as in the README table, plus `rules`) [HUITIAN_CONFIG]'));
  return (opts) => {
    const overrides: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(CONFIG_FIELDS)) {
      const v = opts[camel(spec.flag)];
      if (v !== undefined) overrides[key] = v;
    }
    if (opts.config !== undefined) overrides.config = opts.config;
    return overrides as ConfigOverrides;
  };
}

export interface StartedService {
  service: Service;
  address: string;
}

/** Loads configuration, starts the service and installs signal handlers. Exits on bad config. */
export async function startService(overrides: ConfigOverrides, onStarted?: (s: StartedService) => Promise<void> | void): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, overrides);
  } catch (err) {
    if (err instanceof HuitianError) {
      process.stderr.write(`huitian: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw err;
  }
  // The service (fastify, the brokers' clients, SQLite) is loaded only to run it: every
  // command registers this module's options, and a usage error must answer at once.
  const [{ createLogger }, { createService }] = await Promise.all([import('../logger.js'), import('../service.js')]);
  const logger = createLogger(config.logLevel);
  const service = await createService(config, {
    logger,
    onFatal: (err) => {
      // The engine is ahead of the store; only a restart (which recovers from the
      // store) makes them agree again.
      logger.fatal({ err }, 'exiting after a failed durable commit');
      process.exit(EXIT_FAILURE);
    },
  });
  // Shutdown is bounded: a source or sink that does not let go (a broker gone, an
  // InfluxDB that never answers) must not keep the process after Ctrl-C. Exiting early
  // is safe, as a kill -9 is: every step is durable once committed.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the shutdown to finish');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info({ signal, timeoutS: config.shutdownTimeoutS }, 'stopping');
    setTimeout(() => {
      logger.error({ timeoutS: config.shutdownTimeoutS }, 'shutdown did not finish in time; exiting anyway (the store is durable: the next start recovers)');
      process.exit(EXIT_FAILURE);
    }, config.shutdownTimeoutS * 1000).unref();
    service
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(EXIT_FAILURE);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  let address: string;
  try {
    address = await service.start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await service.stop().catch(() => undefined);
    process.exit(EXIT_FAILURE);
  }
  if (onStarted !== undefined) await onStarted({ service, address });
}

export function registerServe(program: Command): void {
  const cmd = program.command('serve').description('run the service (HTTP API, embedded store, configured sources and sinks)');
  const overridesOf = addConfigOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    await startService(overridesOf(opts));
  });
}
