/**
 * A child process running the real service (createService) with the embedded store, in
 * replay mode, on 127.0.0.1 and a free port. It tells its parent the address over IPC
 * and answers `stats` (the engine's counters and this process's memory) and `stop`.
 *
 * argv[2]: the data directory (fresh and empty).
 */
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createService } from '../src/service.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: server-child DATA_DIR');

const config = loadConfig({
  HUITIAN_DATA_DIR: dataDir,
  HUITIAN_HOST: '127.0.0.1',
  HUITIAN_PORT: '0',
  HUITIAN_TIME_MODE: 'replay',
  HUITIAN_INSTANCE_ID: 'bench',
  HUITIAN_LOG_LEVEL: 'error',
});
const service = await createService(config, { logger: createLogger(config.logLevel) });
const address = await service.start();

process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    process.send!({ type: 'stats', stats: service.pipeline.engine.stats(), memory: process.memoryUsage() });
  } else if (m.type === 'stop') {
    void service.stop().then(() => {
      process.send!({ type: 'stop' });
      process.disconnect();
    });
  }
});
process.send!({ type: 'ready', address });
