#!/usr/bin/env node
/** The `fusion` command (package bin): see cli.ts for dispatch and commands.ts for the table. */
import { runCli } from './cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fusion: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
