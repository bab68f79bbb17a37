/** Runs `fusion <command> [args]`: builds the commander program and maps its outcome to an exit code. */
import { CommanderError } from 'commander';
import { processIO } from './cli-io.js';
import type { CliIO } from './cli-io.js';
import { EXIT_USAGE } from './command.js';
import type { FusionCommand } from './command.js';
import { COMMANDS } from './commands.js';
import { createProgram } from './program.js';
import type { CliRuntime } from './runtime.js';

/** The text of `fusion help`. */
export function helpText(commands: readonly FusionCommand[] = COMMANDS, io: CliIO = processIO()): string {
  return createProgram(commands, { io, exitCode: undefined, ran: false }).helpInformation();
}

/** Runs the command `argv` names; resolves to an exit code, or undefined when it keeps running (a server). */
export async function runCli(argv: readonly string[], commands: readonly FusionCommand[] = COMMANDS, io: CliIO = processIO()): Promise<number | void> {
  const runtime: CliRuntime = { io, exitCode: undefined, ran: false };
  const program = createProgram(commands, runtime);
  if (argv.length === 0) {
    io.stdout.write(program.helpInformation());
    return EXIT_USAGE;
  }
  // commander's `help` exits with process.exitCode when one is set: start this run from none.
  const outerExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version exit 0; every other commander error is a usage error.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  } finally {
    process.exitCode ??= outerExitCode;
  }
  return runtime.ran ? runtime.exitCode : 0;
}
