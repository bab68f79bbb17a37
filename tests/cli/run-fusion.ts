/** Runs `fusion` in this process with captured streams and a given environment (the real program, real clients). */
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/cli.js';
import type { FusionCommand } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands.js';

/** What a run printed and returned. */
export interface FusionRun {
  code: number | void;
  stdout: string;
  stderr: string;
}

/** Options of runFusion. */
export interface RunFusionOptions {
  /** The environment the run sees (nothing from the shell's). */
  env?: Record<string, string | undefined>;
  /** Standard input (ended after it); none by default. */
  stdin?: string;
  /** Called with the output so far each time stdout grows. */
  onStdout?: (stdout: string) => void;
  commands?: readonly FusionCommand[];
}

/** `fusion ...argv` with captured output. */
export async function runFusion(argv: string[], options: RunFusionOptions = {}): Promise<FusionRun> {
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    options.onStdout?.(out);
  });
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, options.commands ?? COMMANDS, { stdin, stdout, stderr, env: options.env ?? {} });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out, stderr: err };
}
