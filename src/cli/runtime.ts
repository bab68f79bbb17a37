/**
 * The state of one `fusion` run shared by its commands: the streams, and the exit code the
 * command's action settles on (errors become codes by class, see exit-codes.ts).
 */
import type { Command } from 'commander';
import type { CliIO } from './cli-io.js';
import { connect } from './connection.js';
import type { Connection, ConnectionOptions } from './connection.js';
import { describeError, exitCodeFor } from './exit-codes.js';

/** One `fusion` run. */
export interface CliRuntime {
  readonly io: CliIO;
  /** The code the action settled on; undefined while none ran, or when it keeps running (a server). */
  exitCode: number | undefined;
  /** True when an action ran (commander otherwise printed help or an error). */
  ran: boolean;
}

/** The words that name a command, e.g. `fusion case list`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/**
 * A commander action that runs `body`, turns its result or error into the run's exit code. A
 * body that resolves to nothing succeeded (0), unless `keepsRunning` (a FusionCommand's server).
 */
export function action(runtime: CliRuntime, body: (command: Command) => Promise<number | void>, keepsRunning = false): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    runtime.ran = true;
    try {
      const code = await body(command);
      runtime.exitCode = typeof code === 'number' ? code : keepsRunning ? undefined : 0;
    } catch (error) {
      runtime.io.stderr.write(`${commandPath(command)}: ${describeError(error)}\n`);
      runtime.exitCode = exitCodeFor(error);
    }
  };
}

/** Like `action`, with a connection opened from the command's options (closed afterwards). */
export function clientAction(
  runtime: CliRuntime,
  body: (connection: Connection, command: Command) => Promise<number | void>,
): (...params: unknown[]) => Promise<void> {
  return action(runtime, async (command) => {
    const connection = await connect(runtime.io, command.opts<ConnectionOptions>());
    try {
      return await body(connection, command);
    } finally {
      await connection.client.close();
    }
  });
}
