/** The table of `fusion` sub-commands: add a command by adding its entry here. */
import type { FusionCommand } from './command.js';
import { hashPasswordCommand } from './commands/hash-password.js';
import { serveCommand } from './commands/serve.js';
import { taskCommand } from './commands/task.js';
import { analyzerCommand } from './commands/analyzer.js';
import { versionCommand } from './commands/version.js';

/** Every `fusion` sub-command, in the order `fusion help` lists them. */
export const COMMANDS: readonly FusionCommand[] = [serveCommand, taskCommand, analyzerCommand, hashPasswordCommand, versionCommand];
