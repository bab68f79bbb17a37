/**
 * One file transfer of a client command (download, cloud get/put/zip): progress on stderr (a bar
 * on a terminal, plain lines otherwise, none with `--no-progress`) and Ctrl-C aborting it cleanly.
 */
import type { CliOutput } from './cli-io.js';

/** What a transfer body receives: pass both to the client method. */
export interface TransferControls {
  signal: AbortSignal;
  onProgress?: (bytes: number, total: number | null) => void;
}

/** Runs `body` with progress under `label` (when `progress`); `bytesOf` reads the size moved from its result. */
export async function runTransfer<T>(stderr: CliOutput, label: string, progress: boolean, body: (controls: TransferControls) => Promise<T>, bytesOf: (result: T) => number): Promise<T> {
  const { createProgress } = await import('./progress.js');
  const reporter = progress ? createProgress(stderr, label) : null;
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    const result = await body({ signal: controller.signal, ...(reporter ? { onProgress: (bytes: number, total: number | null) => reporter.update(bytes, total) } : {}) });
    reporter?.finish(bytesOf(result));
    return result;
  } catch (error) {
    reporter?.abort();
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}
