/**
 * The `fusion` program on commander: the FusionCommands of commands.ts (registered generically:
 * their arguments pass through untouched to `run`), the client command groups, `init` and
 * `completion`. Every command answers `--help`.
 */
import { Command } from 'commander';
import { FUSION_VERSION } from '../helper/version.js';
import { CLIENT_COMMAND_GROUPS } from './client-commands/index.js';
import type { FusionCommand } from './command.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { exitCodesSummary } from './exit-codes.js';
import { initCommands } from './init/command.js';
import { action } from './runtime.js';
import type { CliRuntime } from './runtime.js';

function registerFusionCommand(program: Command, runtime: CliRuntime, command: FusionCommand): void {
  program
    .command(command.name)
    .description(command.summary)
    .argument('[args...]', 'arguments (see usage below)')
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .addHelpText('after', `\nusage: ${command.usage}`)
    .action(action(runtime, (self) => command.run(self.args), true));
}

function registerCompletion(program: Command, runtime: CliRuntime): void {
  program
    .command('completion')
    .description('Print a shell completion script: source <(fusion completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action(
      action(runtime, async (self) => {
        const shell = self.processedArgs[0] as string;
        if (shell !== 'bash' && shell !== 'zsh') {
          runtime.io.stderr.write(`fusion completion: unknown shell '${shell}': bash or zsh\n`);
          return 2;
        }
        runtime.io.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
        return 0;
      }),
    );
}

/** Builds the `fusion` program for one run (commander keeps parse state: one program per run). */
export function createProgram(commands: readonly FusionCommand[], runtime: CliRuntime): Command {
  const { io } = runtime;
  const program = new Command('fusion');
  program
    .description('fusion-framework: run a service, scaffold one, or talk to a running one')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showSuggestionAfterError()
    .version(`fusion-framework ${FUSION_VERSION}`, '-v, --version', 'print the fusion-framework version')
    .addHelpText('after', `\n${exitCodesSummary()}`);
  for (const command of commands) registerFusionCommand(program, runtime, command);
  initCommands(program, runtime);
  for (const group of CLIENT_COMMAND_GROUPS) group(program, runtime);
  registerCompletion(program, runtime);
  return program;
}
