/**
 * `fusion hash-password`: reads a password from standard input (without echo on a terminal,
 * asked twice) and prints its argon2id digest for `auth.backend.basic.users[].digest`.
 */
import { MAX_PASSWORD_LENGTH, hashPassword } from '../../server/auth/backend/password.js';
import { EXIT_USAGE } from '../command.js';
import type { FusionCommand } from '../command.js';

/** The streams the command uses (process.stdin/stdout/stderr by default). */
export interface HashPasswordIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Reads all of a non-terminal stream; one trailing newline (`\n` or `\r\n`) is dropped. */
export async function readPasswordFromPipe(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > MAX_PASSWORD_LENGTH * 4 + 2) throw new Error(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompts on `stderr` and reads one line from a terminal in raw mode, echoing nothing. */
export function readPasswordFromTerminal(io: HashPasswordIO, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error: Error | null): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish(null);
        if (char === '\u0003') return finish(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('');
        else text += char;
      }
    };
    stderr.write(prompt);
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Runs the command; returns the exit code (0 ok, 1 refused input). */
export async function runHashPassword(io: HashPasswordIO = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let password: string;
  try {
    if (io.stdin.isTTY === true) {
      password = await readPasswordFromTerminal(io, 'Password: ');
      const again = await readPasswordFromTerminal(io, 'Password (again): ');
      if (again !== password) throw new Error('the two passwords differ');
    } else {
      password = await readPasswordFromPipe(io.stdin);
    }
    if (password.length === 0) throw new Error('the password is empty');
    if (password.length > MAX_PASSWORD_LENGTH) throw new Error(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  } catch (error) {
    io.stderr.write(`fusion hash-password: ${(error as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

/** The `hash-password` command (takes no arguments: a password on the command line would land in shell history). */
export const hashPasswordCommand: FusionCommand = {
  name: 'hash-password',
  summary: 'Read a password on stdin (no echo on a terminal) and print its argon2id digest for auth.backend.basic.users[].digest',
  usage: 'fusion hash-password < password.txt   |   fusion hash-password   (prompts twice)',
  async run(args: readonly string[]): Promise<number> {
    if (args.length > 0) {
      process.stderr.write('fusion hash-password: takes no arguments; give the password on standard input\n');
      return EXIT_USAGE;
    }
    return runHashPassword();
  },
};
