/** The shape of a command group: one file adds its commands (e.g. `case list|get|...`) to `fusion`. */
import type { Command } from 'commander';
import type { CliRuntime } from './runtime.js';

/** Adds its commands to the `fusion` program. */
export type CommandGroup = (program: Command, runtime: CliRuntime) => void;
