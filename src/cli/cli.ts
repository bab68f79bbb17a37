/** Dispatches `fusion <command> [args]` to the commands table; prints help. */
import { EXIT_USAGE } from './command.js';
import type { FusionCommand } from './command.js';
import { COMMANDS } from './commands.js';

/** The text of `fusion help`. */
export function helpText(commands: readonly FusionCommand[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  const usages = commands.map((c) => `  ${c.usage}`);
  return ['usage: fusion <command> [options]', '', 'commands:', ...lines, '', 'usage by command:', ...usages, ''].join('\n');
}

/** Runs the command named by `argv[0]`; resolves to an exit code, or undefined when it keeps running. */
export async function runCli(argv: readonly string[], commands: readonly FusionCommand[] = COMMANDS): Promise<number | void> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(helpText(commands));
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v') return runCli(['version', ...args], commands);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`fusion: unknown command '${name}'; run 'fusion help' for the list\n`);
    return EXIT_USAGE;
  }
  return command.run(args);
}
