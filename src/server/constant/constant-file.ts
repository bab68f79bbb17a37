/**
 * A concept kept in sync with a JSON/YAML file: loaded at start, reloaded when the file
 * changes (fs.watch on its directory, debounced, plus a cheap mtime check on reads). A missing
 * file means no value; a broken file keeps the last good value and logs the error.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { FusionLogger } from '../../helper/logging.js';

/** Decodes the file (e.g. `(path) => Constant.fromFile(path)`). */
export type FileDecoder<T> = (path: string) => Promise<T>;

/** Options of ConceptFile. */
export interface ConceptFileOptions<T> {
  path: string;
  decode: FileDecoder<T>;
  logger: FusionLogger;
  /** Quiet time after a change event before reloading, in ms (default 50). */
  debounceMs?: number;
  /** A read stats the file at most this often, in ms, to catch missed events (default 1000). */
  checkIntervalMs?: number;
}

interface Signature {
  mtimeMs: number;
  size: number;
  ino: number;
}

/** Holds the last good value decoded from a file and follows the file's changes. */
export class ConceptFile<T> {
  readonly #path: string;
  readonly #decode: FileDecoder<T>;
  readonly #logger: FusionLogger;
  readonly #debounceMs: number;
  readonly #checkIntervalMs: number;
  #value: T | null = null;
  #signature: Signature | null = null;
  #present = false;
  #lastCheck = 0;
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #reloading: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(options: ConceptFileOptions<T>) {
    this.#path = options.path;
    this.#decode = options.decode;
    this.#logger = options.logger;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#checkIntervalMs = options.checkIntervalMs ?? 1000;
  }

  /** Loads the file (a missing one is fine) and starts watching its directory. */
  async start(): Promise<void> {
    await this.reload();
    if (this.#closed) return;
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === basename(this.#path)) this.#schedule();
      });
      this.#watcher.on('error', (error) => {
        this.#logger.warn({ err: error, path: this.#path }, 'watching the file failed: changes are seen by the periodic check only');
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch (error) {
      this.#logger.warn({ err: error, path: this.#path }, 'cannot watch the directory: changes are seen by the periodic check only');
    }
  }

  /** The current value (null while the file is missing or was never valid); stats the file now and then. */
  async current(): Promise<T | null> {
    const now = Date.now();
    if (now - this.#lastCheck >= this.#checkIntervalMs) {
      this.#lastCheck = now;
      await this.reload();
    }
    return this.#value;
  }

  /** True when the file exists (its value may still be the last good one). */
  get present(): boolean {
    return this.#present;
  }

  /** Re-reads the file if its mtime, size or inode changed; concurrent calls share one reload. */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reload().finally(() => {
      this.#reloading = null;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#reloading;
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watcher?.close();
    this.#watcher = null;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.reload();
    }, this.#debounceMs);
    this.#timer.unref();
  }

  async #reload(): Promise<void> {
    let signature: Signature;
    try {
      const stats = await stat(this.#path);
      signature = { mtimeMs: stats.mtimeMs, size: stats.size, ino: stats.ino };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#logger.error({ err: error, path: this.#path }, 'cannot stat the file: keeping the last good value');
        return;
      }
      if (this.#present || this.#signature === null) {
        if (this.#present) this.#logger.warn({ path: this.#path }, 'file removed: no value until it comes back');
        else this.#logger.warn({ path: this.#path }, 'file missing: no value until it is created');
      }
      this.#present = false;
      this.#value = null;
      this.#signature = { mtimeMs: -1, size: -1, ino: -1 };
      return;
    }
    const previous = this.#signature;
    if (previous && previous.mtimeMs === signature.mtimeMs && previous.size === signature.size && previous.ino === signature.ino) return;
    this.#signature = signature;
    this.#present = true;
    try {
      this.#value = await this.#decode(this.#path);
      this.#logger.info({ path: this.#path }, 'file loaded');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const kept = this.#value === null ? 'no value yet' : 'keeping the last good value';
      this.#logger.error({ path: this.#path, err: error }, `invalid file (${message}): ${kept}`);
    }
  }
}
