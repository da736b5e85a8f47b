/** Structured logs through pino; the service never writes to the console directly. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'huitian-brain' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', '*.token', 'config.tokens'], censor: '[redacted]' },
    },
    // Synchronous writes: with asynchronous ones, pino flushes what is buffered when the
    // process exits, and sonic-boom's exit-time flushSync retries a write that failed with
    // EPIPE forever — `npm run demo 2>&1 | tee log` then hung on Ctrl-C (tee gone, the
    // last lines still buffered) and ignored every further signal. A synchronous write
    // fails at once, and pino then stops writing to the broken pipe. The service logs
    // little (no line per request), so the cost does not show.
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}
