/**
 * `huitian` command line: serve, replay, validate, simulate.
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { Command, CommanderError } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export type CommandRegistrar = (program: Command) => void;

const registrars: Array<() => Promise<CommandRegistrar>> = [
  async () => (await import('./serve-command.js')).registerServe,
  async () => (await import('./replay-command.js')).registerReplay,
  async () => (await import('./validate-command.js')).registerValidate,
  async () => (await import('./demo-command.js')).registerDemo,
  async () => (await import('./simulate-command.js')).registerSimulate,
];

export async function main(argv: string[]): Promise<void> {
  const program = new Command('huitian')
    .description('huitian-brain: event-stream processing for the 回天城市大脑 hub')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const load of registrars) (await load())(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(EXIT_OK);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`huitian: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  }
}
