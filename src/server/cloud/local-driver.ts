/**
 * The `local` driver: files under `cloud.root`. A write streams to a temporary file in
 * `<root>/.fusion-staging`, is fsynced, then renamed over its path (rename is atomic on one file
 * system, so a reader sees the old or the new content, never a mix, and a crash leaves at most a
 * staging file, swept at start).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FusionError } from '../../helper/errors.js';
import type { CloudDriver, OpenedContent, StagedFile } from './driver.js';
import { FileSink } from './file-sink.js';

/** Staging directory name inside the root (reserved: paths may not start with `.fusion-`). */
const STAGING = '.fusion-staging';

async function fsync(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function escapes(): FusionError {
  return new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: it leads out of the cloud root (symbolic link)');
}

/** Files under one local directory. */
export class LocalCloudDriver implements CloudDriver {
  /** Always `local`. */
  readonly kind = 'local' as const;
  readonly #root: string;
  #realRoot: string | null = null;

  constructor(root: string) {
    this.#root = root;
  }

  /** Creates the root and sweeps staging files a crash left. */
  async start(): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    this.#realRoot = await realpath(this.#root);
    await rm(join(this.#realRoot, STAGING), { recursive: true, force: true });
    await mkdir(join(this.#realRoot, STAGING), { recursive: true });
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  #root_(): string {
    if (this.#realRoot === null) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the local cloud driver is not started');
    return this.#realRoot;
  }

  #full(path: string): string {
    return path === '' ? this.#root_() : join(this.#root_(), ...path.split('/'));
  }

  /** Resolves the deepest existing part of `path` and refuses it when it is outside the root. */
  async confine(path: string): Promise<void> {
    const root = this.#root_();
    let candidate = this.#full(path);
    for (;;) {
      try {
        const real = await realpath(candidate);
        if (real !== root && !real.startsWith(root + sep)) throw escapes();
        return;
      } catch (error) {
        // Missing, or below a file (ENOTDIR): what exists of it is an ancestor.
        const code = (error as { code?: string }).code;
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || candidate === root) throw error;
        candidate = dirname(candidate);
      }
    }
  }

  /** Streams `body` into a staging file, synced to disk before it resolves. */
  async stage(path: string, body: Readable): Promise<StagedFile> {
    const staging = this.#stagingName();
    const handle = await open(staging, 'wx');
    try {
      await pipeline(body, new FileSink(handle));
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(staging, { force: true });
      throw error;
    }
    return this.#staged(path, staging);
  }

  /** Moves a complete local file into staging (a copy when it is on another file system). */
  async adopt(path: string, file: string): Promise<StagedFile> {
    const staging = this.#stagingName();
    try {
      await rename(file, staging);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EXDEV') throw error;
      return this.stage(path, createReadStream(file));
    }
    await fsync(staging);
    return this.#staged(path, staging);
  }

  #stagingName(): string {
    return join(this.#root_(), STAGING, `${randomBytes(12).toString('hex')}.part`);
  }

  #staged(path: string, staging: string): StagedFile {
    const target = this.#full(path);
    let done = false;
    const discard = async (): Promise<void> => {
      if (done) return;
      done = true;
      await rm(staging, { force: true });
    };
    return {
      commit: async () => {
        if (done) throw new FusionError('FUSION_ERR_INTERNAL', 'staged file committed twice');
        await mkdir(dirname(target), { recursive: true });
        await this.confine(path);
        await rename(staging, target);
        done = true;
      },
      discard,
    };
  }

  /** Reads the file (or one byte range of it). */
  /** Opens the file: its size from the descriptor (fstat), its bytes read through that descriptor. */
  async open(path: string): Promise<OpenedContent> {
    const handle = await open(this.#full(path), 'r');
    let size: number;
    try {
      size = (await handle.stat()).size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    let taken = false;
    return {
      size,
      read: async (range) => {
        if (taken) throw new Error('OpenedContent.read: called twice');
        taken = true;
        return handle.createReadStream({ highWaterMark: 256 * 1024, ...(range ?? {}) });
      },
      close: async () => {
        if (taken) return;
        taken = true;
        await handle.close();
      },
    };
  }

  async read(path: string, range?: { start: number; end: number }): Promise<Readable> {
    const handle = await open(this.#full(path), 'r');
    return handle.createReadStream({ highWaterMark: 256 * 1024, ...(range ?? {}) });
  }

  /** mkdir -p. */
  async makeDirectory(path: string): Promise<void> {
    await mkdir(this.#full(path), { recursive: true });
  }

  /** rm -f. */
  async removeFile(path: string): Promise<void> {
    await rm(this.#full(path), { force: true });
  }

  /** rm -rf (never the root itself: its content only). */
  async removeTree(path: string): Promise<void> {
    if (path === '') throw new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: the root cannot be deleted');
    await rm(this.#full(path), { recursive: true, force: true });
  }
}
