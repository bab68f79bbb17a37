/** The shape of a `fusion` sub-command, as listed in the commands table. */

/** One `fusion` sub-command. */
export interface FusionCommand {
  /** Name typed after `fusion`. */
  readonly name: string;
  /** One line for `fusion help`. */
  readonly summary: string;
  /** Usage line(s) for `fusion help`. */
  readonly usage: string;
  /** Runs with the arguments after the name; resolves to an exit code, or undefined to keep running (a server). */
  run(args: readonly string[]): Promise<number | void>;
}

/** Exit code for a usage or configuration error (bad arguments, ConfigError). */
export const EXIT_USAGE = 2;
