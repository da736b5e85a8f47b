/** `huitian validate FILE.ndjson`: checks a file against the event contract line by line. */
import { Command } from 'commander';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { decodeJson } from '../events/decode.js';
import { EXIT_FAILURE } from './main.js';

export interface ValidationSummary {
  lines: number;
  valid: number;
  invalid: number;
  duplicates: number;
}

/** Validates an NDJSON file; calls `report` for each bad line (1-based line numbers). */
export async function validateFile(file: string, report: (line: number, reason: string) => void): Promise<ValidationSummary> {
  const summary: ValidationSummary = { lines: 0, valid: 0, invalid: 0, duplicates: 0 };
  const seen = new Set<string>();
  const input = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of input) {
    n++;
    if (raw.trim() === '') continue;
    summary.lines++;
    const d = decodeJson(raw);
    if (!d.ok) {
      summary.invalid++;
      report(n, d.reason);
      continue;
    }
    summary.valid++;
    const key = `${d.event.source}\u0000${d.event.id}`;
    if (seen.has(key)) summary.duplicates++;
    else seen.add(key);
  }
  return summary;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an NDJSON file against the event contract; report each bad line')
    .argument('<file>', 'CloudEvents NDJSON file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      if (!existsSync(file)) cmd.error(`huitian validate: no such file: ${file}`, { exitCode: 2 });
      const s = await validateFile(file, (line, reason) => process.stdout.write(`${file}:${line}: ${reason}\n`));
      process.stdout.write(
        `${s.lines} events: ${s.valid} valid, ${s.invalid} invalid${s.duplicates > 0 ? `, ${s.duplicates} duplicates (same source and id; the service ignores repeats)` : ''}\n`,
      );
      if (s.invalid > 0) process.exitCode = EXIT_FAILURE;
    });
}
