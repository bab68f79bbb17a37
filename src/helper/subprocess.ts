/** Runs a command without a shell, with a timeout, cancellation and a clean stop. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { FusionError } from './errors.js';

/** What to do with the child's stdin/stdout/stderr. */
export type SubprocessStdio = 'ignore' | 'inherit' | 'capture';

/** Options of runSubprocess. */
export interface RunSubprocessOptions {
  /** Added to process.env; a key set to null or undefined removes that variable. */
  env?: Record<string, string | null | undefined>;
  /** Working directory (default: the current one). */
  cwd?: string;
  /** Milliseconds before the command is stopped and the promise rejects with FUSION_ERR_TIMEOUT. */
  timeout?: number;
  /** Aborting it stops the command; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** 'ignore' (default), 'inherit' (share this process's), or 'capture' (returned as text; stdin ignored). */
  stdio?: SubprocessStdio;
  /** Milliseconds between SIGTERM and SIGKILL when stopping the command (default 5000). */
  killGrace?: number;
  /** With stdio 'capture', bytes kept per stream; the rest is dropped (default 16 MiB). */
  maxOutputBytes?: number;
}

/** How a command ended: exit code (null when killed by a signal), signal, captured output. */
export interface SubprocessResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  /** Signal that ended the process, or null. */
  signal: NodeJS.Signals | null;
  /** Captured stdout (UTF-8) with stdio 'capture', else ''. */
  stdout: string;
  /** Captured stderr (UTF-8) with stdio 'capture', else ''. */
  stderr: string;
}

const DEFAULT_KILL_GRACE = 5000;
const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

function checkOptions(argv: readonly string[], options: RunSubprocessOptions): void {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((arg) => typeof arg === 'string')) {
    throw new TypeError('argv must be a non-empty array of strings: [command, ...arguments]');
  }
  if (argv[0] === '') throw new TypeError('argv[0] (the command) must not be empty');
  for (const key of ['timeout', 'killGrace', 'maxOutputBytes'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
      throw new RangeError(`${key} must be a number > 0, got ${String(value)}`);
    }
  }
}

/** process.env merged with `overrides`, where null/undefined values remove the variable. */
function mergedEnv(overrides: RunSubprocessOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === null || value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Collects a stream's text up to `limit` bytes. */
function collector(limit: number): { push: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      if (size >= limit) return;
      const kept = chunk.subarray(0, limit - size);
      chunks.push(kept);
      size += kept.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** Turns a spawn failure into FUSION_ERR_SUBPROCESS naming the command. */
async function spawnError(command: string, cwd: string | undefined, error: NodeJS.ErrnoException): Promise<FusionError> {
  if (error.code === 'ENOENT' && cwd !== undefined) {
    const cwdExists = await stat(cwd).then((s) => s.isDirectory(), () => false);
    if (!cwdExists) {
      return new FusionError('FUSION_ERR_SUBPROCESS', `cannot run '${command}': working directory '${cwd}' does not exist`, { cause: error });
    }
  }
  const reason =
    error.code === 'ENOENT'
      ? 'command not found: check the name, or give its full path, or fix PATH'
      : error.code === 'EACCES'
        ? 'permission denied: make the file executable'
        : error.message;
  return new FusionError('FUSION_ERR_SUBPROCESS', `cannot run '${command}': ${reason}`, { cause: error });
}

/**
 * Runs `argv` ([command, ...arguments], no shell) and resolves with its exit code and signal
 * once it has ended (a non-zero code resolves too). On timeout or abort the command gets SIGTERM,
 * then SIGKILL after `killGrace` ms; the promise settles after it has exited, rejecting with
 * FUSION_ERR_TIMEOUT (timeout) or the signal's reason (abort). A command that cannot be started
 * rejects with FUSION_ERR_SUBPROCESS naming it. Only the direct child is signalled.
 */
export async function runSubprocess(argv: readonly string[], options: RunSubprocessOptions = {}): Promise<SubprocessResult> {
  checkOptions(argv, options);
  const { cwd, timeout, signal, stdio = 'ignore' } = options;
  const killGrace = options.killGrace ?? DEFAULT_KILL_GRACE;
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const [command, ...args] = argv;
  signal?.throwIfAborted();

  return new Promise<SubprocessResult>((resolve, reject) => {
    const stdout = collector(limit);
    const stderr = collector(limit);
    let child: ChildProcess;
    let stopReason: 'timeout' | 'abort' | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const cleanup = (): void => {
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    const stop = (reason: 'timeout' | 'abort'): void => {
      if (stopReason !== undefined || settled) return;
      stopReason = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGrace);
    };
    function onAbort(): void {
      stop('abort');
    }

    try {
      child = spawn(command, args, {
        cwd,
        env: mergedEnv(options.env),
        shell: false,
        windowsHide: true,
        stdio: stdio === 'capture' ? ['ignore', 'pipe', 'pipe'] : stdio,
      });
    } catch (error) {
      reject(new FusionError('FUSION_ERR_SUBPROCESS', `cannot run '${command}': ${(error as Error).message}`, { cause: error }));
      return;
    }
    child.stdout?.on('data', stdout.push);
    child.stderr?.on('data', stderr.push);

    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // After a successful spawn, errors come from kill() on a process that is already gone.
      if (spawned || settled) return;
      cleanup();
      void spawnError(command, cwd, error).then(reject);
    });
    child.on('exit', () => {
      // Once we stopped it, do not wait for grandchildren that may still hold its pipes.
      if (stopReason !== undefined) {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    });
    child.on('close', (code: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled || !spawned) return;
      cleanup();
      if (stopReason === 'timeout') {
        reject(
          new FusionError(
            'FUSION_ERR_TIMEOUT',
            `command '${command}' did not finish within ${timeout} ms and was stopped (${exitSignal ?? `exit code ${code}`}); raise the timeout if it needs longer`,
          ),
        );
      } else if (stopReason === 'abort') {
        reject(signal?.reason);
      } else {
        resolve({ code, signal: exitSignal, stdout: stdout.text(), stderr: stderr.text() });
      }
    });

    if (timeout !== undefined) timeoutTimer = setTimeout(() => stop('timeout'), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
