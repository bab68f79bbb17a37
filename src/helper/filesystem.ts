/**
 * Filesystem helpers: recursive disk usage, the GUID-named entries of a directory, and
 * edf_fusion's per-entity layout `<root>/<guid>/{metadata.json, data, data.d/}` (ConceptStorage).
 */
import { lstat, mkdir, opendir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FusionError } from './errors.js';
import { dumpFile, loadFile } from './serializing.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Bytes under `path`: the sum of the sizes (st_size, so the apparent size of sparse files) of the
 * regular files in it, recursively; the size of `path` itself when it is a file; 0 when it does
 * not exist. Symbolic links are not followed (they count 0), so a link loop cannot trap it.
 */
export async function diskUsage(path: string): Promise<number> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return 0;
    throw error;
  }
  if (info.isFile()) return info.size;
  if (!info.isDirectory()) return 0;
  let total = 0;
  const pending = [path];
  while (pending.length > 0) {
    const directory = pending.pop()!;
    const files: string[] = [];
    try {
      for await (const entry of await opendir(directory)) {
        const child = join(directory, entry.name);
        if (entry.isDirectory()) pending.push(child);
        else if (entry.isFile()) files.push(child);
      }
    } catch (error) {
      if (errno(error) === 'ENOENT') continue; // removed while we walked
      throw error;
    }
    const sizes = await Promise.all(files.map((file) => lstat(file).then((s) => s.size, () => 0)));
    for (const size of sizes) total += size;
  }
  return total;
}

/** One GUID-named subdirectory found by iterGuidItems. */
export interface GuidItem {
  /** The name, lowercased. */
  guid: string;
  /** Its full path (with the name as found on disk). */
  path: string;
}

/**
 * The subdirectories of `directory` (or symbolic links to directories) whose name is a UUID,
 * in name order; other entries are skipped. Nothing when `directory` does not exist.
 */
export async function* iterGuidItems(directory: string): AsyncGenerator<GuidItem> {
  const names: string[] = [];
  try {
    for await (const entry of await opendir(directory)) {
      if (!UUID.test(entry.name)) continue;
      const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(directory, entry.name)).then((s) => s.isDirectory(), () => false)));
      if (isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (errno(error) === 'ENOENT') return;
    throw error;
  }
  names.sort();
  for (const name of names) yield { guid: name.toLowerCase(), path: join(directory, name) };
}

/** What ConceptStorage saves: anything with a toJSON (a Concept). */
export interface JsonSerializable {
  toJSON(): unknown;
}

/** What ConceptStorage loads with: a class with a static fromJSON (a Concept class). */
export interface JsonDecoder<T> {
  fromJSON(data: unknown): T;
}

/**
 * The directory of one entity, laid out as edf_fusion does: `<root>/<guid>/metadata.json` (a
 * Concept as JSON), a `data` file and a `data.d/` folder for whatever the service stores.
 * The guid must be a UUID, so the path never leaves `root`.
 */
export class ConceptStorage {
  /** The entity's guid (lowercase). */
  readonly guid: string;
  /** `<root>/<guid>`. */
  readonly path: string;
  /** `<root>/<guid>/metadata.json`. */
  readonly metadataPath: string;
  /** `<root>/<guid>/data`. */
  readonly dataPath: string;
  /** `<root>/<guid>/data.d`. */
  readonly dataDir: string;

  constructor(root: string, guid: string) {
    if (typeof root !== 'string' || root === '') throw new TypeError('ConceptStorage: root must be a directory path');
    if (typeof guid !== 'string' || !UUID.test(guid)) throw new TypeError(`ConceptStorage: guid must be a UUID, got ${JSON.stringify(String(guid).slice(0, 80))}`);
    this.guid = guid.toLowerCase();
    this.path = join(resolve(root), this.guid);
    this.metadataPath = join(this.path, 'metadata.json');
    this.dataPath = join(this.path, 'data');
    this.dataDir = join(this.path, 'data.d');
  }

  /** True when the entity's directory exists. */
  async exists(): Promise<boolean> {
    return stat(this.path).then((s) => s.isDirectory(), () => false);
  }

  /**
   * Creates `<guid>/` and `<guid>/data.d/` (and `root` if missing), then saves `metadata` if given.
   * FUSION_ERR_FILE_EXISTS when the directory exists already; on a later failure what was created is removed.
   */
  async create(metadata?: JsonSerializable): Promise<void> {
    await mkdir(resolve(this.path, '..'), { recursive: true });
    try {
      await mkdir(this.path);
    } catch (error) {
      if (errno(error) === 'EEXIST') {
        throw new FusionError('FUSION_ERR_FILE_EXISTS', `${this.path} exists already: load it, or remove it before creating it again`, { cause: error });
      }
      throw error;
    }
    try {
      await mkdir(this.dataDir);
      if (metadata !== undefined) await this.saveMetadata(metadata);
    } catch (error) {
      await rm(this.path, { recursive: true, force: true });
      throw error;
    }
  }

  /** The metadata decoded with `decoder.fromJSON` (e.g. `Case`), or null when metadata.json does not exist. */
  async loadMetadata<T>(decoder: JsonDecoder<T>): Promise<T | null> {
    let data: unknown;
    try {
      data = await loadFile(this.metadataPath);
    } catch (error) {
      if (errno((error as { cause?: unknown }).cause) === 'ENOENT') return null;
      throw error;
    }
    return decoder.fromJSON(data);
  }

  /** Writes `concept.toJSON()` to metadata.json atomically (temporary file, fsync, rename): never a partial file. */
  async saveMetadata(concept: JsonSerializable): Promise<void> {
    if (typeof concept?.toJSON !== 'function') throw new TypeError('ConceptStorage.saveMetadata: expected a Concept (an object with toJSON)');
    await dumpFile(this.metadataPath, concept.toJSON());
  }

  /** Removes the entity's directory and everything in it; false when it did not exist. */
  async remove(): Promise<boolean> {
    const existed = await lstat(this.path).then(() => true, () => false);
    await rm(this.path, { recursive: true, force: true });
    return existed;
  }

  /** Removes `data.d/` and everything in it (metadata and `data` stay); false when it did not exist. */
  async removeDataDir(): Promise<boolean> {
    const existed = await lstat(this.dataDir).then(() => true, () => false);
    await rm(this.dataDir, { recursive: true, force: true });
    return existed;
  }

  /** Bytes used by the entity (diskUsage of its directory). */
  size(): Promise<number> {
    return diskUsage(this.path);
  }
}
