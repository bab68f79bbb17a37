/** The streams and environment a `fusion` run uses: the process's own, or a test's. */

/** A writable stream that may be a terminal. */
export type CliOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** A readable stream that may be a terminal. */
export type CliInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/** What a `fusion` run reads from and writes to. */
export interface CliIO {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: CliOutput;
  /** Environment (FUSION_URL, FUSION_API_KEY, FUSION_SESSION_FILE, XDG_CONFIG_HOME, HOME). */
  env: Readonly<Record<string, string | undefined>>;
}

/** The process's streams and environment. */
export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
