import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Case } from '../../src/concept/index.js';
import { ConceptStorage, diskUsage, iterGuidItems } from '../../src/helper/filesystem.js';
import { expectDocumentedExample } from './docs-example.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fusion-fs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('diskUsage', () => {
  it('sums the sizes of the files below a directory, recursively', async () => {
    await mkdir(join(root, 'a', 'b', 'c'), { recursive: true });
    await writeFile(join(root, 'top.txt'), 'x'.repeat(10));
    await writeFile(join(root, 'a', 'one.bin'), Buffer.alloc(1000));
    await writeFile(join(root, 'a', 'b', 'c', 'deep.bin'), Buffer.alloc(12_345));
    expect(await diskUsage(root)).toBe(10 + 1000 + 12_345);
    expect(await diskUsage(join(root, 'a', 'b'))).toBe(12_345);
  });

  it('gives a file its size, a missing path 0, and counts a sparse file at its apparent size', async () => {
    const sparse = join(root, 'sparse.bin');
    await writeFile(sparse, '');
    await truncate(sparse, 5 * 1024 ** 3);
    expect(await diskUsage(sparse)).toBe(5 * 1024 ** 3);
    expect(await diskUsage(join(root, 'missing'))).toBe(0);
  });

  it('does not follow symbolic links (no double count, no loop)', async () => {
    await mkdir(join(root, 'real'));
    await writeFile(join(root, 'real', 'f'), Buffer.alloc(100));
    await symlink(join(root, 'real'), join(root, 'link'));
    await symlink(root, join(root, 'real', 'loop'));
    expect(await diskUsage(root)).toBe(100);
  });
});

describe('iterGuidItems', () => {
  it('yields the UUID-named subdirectories, in name order, lowercased, and skips the rest', async () => {
    const guids = [randomUUID(), randomUUID(), randomUUID()].sort();
    for (const guid of guids) await mkdir(join(root, guid));
    const upper = randomUUID().toUpperCase();
    await mkdir(join(root, upper));
    await writeFile(join(root, randomUUID()), 'a file, not a directory');
    await mkdir(join(root, 'not-a-guid'));
    await mkdir(join(root, `${randomUUID()}.tmp`));
    const linked = randomUUID();
    await symlink(join(root, guids[0]!), join(root, linked));

    const items = await collect(iterGuidItems(root));
    const expected = [...guids, upper, linked].sort().map((name) => ({ guid: name.toLowerCase(), path: join(root, name) }));
    expect(items).toEqual(expected);
  });

  it('yields nothing for a missing directory', async () => {
    expect(await collect(iterGuidItems(join(root, 'missing')))).toEqual([]);
  });
});

describe('ConceptStorage', () => {
  it('lays out <root>/<guid>/{metadata.json, data, data.d}', () => {
    const guid = randomUUID();
    const storage = new ConceptStorage(root, guid.toUpperCase());
    expect(storage.guid).toBe(guid);
    expect(storage.path).toBe(join(root, guid));
    expect(storage.metadataPath).toBe(join(root, guid, 'metadata.json'));
    expect(storage.dataPath).toBe(join(root, guid, 'data'));
    expect(storage.dataDir).toBe(join(root, guid, 'data.d'));
  });

  it('refuses a guid that is not a UUID (no path escapes root)', () => {
    for (const guid of ['..', '../etc', '', 'x/y', `${randomUUID()}/..`]) expect(() => new ConceptStorage(root, guid)).toThrow(TypeError);
  });

  it('creates once, saves and loads a concept, measures and removes', async () => {
    const item = new Case({ name: 'first' });
    const storage = new ConceptStorage(join(root, 'cases'), item.guid);
    expect(await storage.exists()).toBe(false);
    expect(await storage.loadMetadata(Case)).toBeNull();
    await storage.create(item);
    expect(await storage.exists()).toBe(true);
    expect((await readdir(storage.path)).sort()).toEqual(['data.d', 'metadata.json']);
    await expect(storage.create(item)).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_EXISTS', status: 409 });

    const loaded = await storage.loadMetadata(Case);
    expect(loaded).toBeInstanceOf(Case);
    expect(loaded?.equals(item)).toBe(true);
    item.update({ name: 'renamed' });
    await storage.saveMetadata(item);
    expect((await storage.loadMetadata(Case))?.name).toBe('renamed');
    expect(JSON.parse(await readFile(storage.metadataPath, 'utf8'))).toEqual(item.toJSON());
    expect((await readdir(storage.path)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const metadataSize = (await readFile(storage.metadataPath)).length;
    await writeFile(storage.dataPath, Buffer.alloc(500));
    await writeFile(join(storage.dataDir, 'part'), Buffer.alloc(250));
    expect(await storage.size()).toBe(metadataSize + 750);
    expect(await storage.removeDataDir()).toBe(true);
    expect(await storage.removeDataDir()).toBe(false);
    expect(await storage.size()).toBe(metadataSize + 500);
    expect(await storage.remove()).toBe(true);
    expect(await storage.exists()).toBe(false);
    expect(await storage.remove()).toBe(false);
  });

  it('reports a corrupt metadata file with the file named, and an invalid concept with the field named', async () => {
    const storage = new ConceptStorage(root, randomUUID());
    await storage.create();
    await writeFile(storage.metadataPath, '{"name": ');
    await expect(storage.loadMetadata(Case)).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_PARSE', message: expect.stringContaining('metadata.json') });
    await writeFile(storage.metadataPath, JSON.stringify({ name: 42 }));
    await expect(storage.loadMetadata(Case)).rejects.toMatchObject({ code: 'FUSION_ERR_CONCEPT_INVALID', message: expect.stringContaining('Case.name') });
  });

  it('leaves nothing when create fails after making the directory', async () => {
    const storage = new ConceptStorage(root, randomUUID());
    const unserializable = { toJSON: () => ({ big: 1n }) };
    await expect(storage.create(unserializable)).rejects.toMatchObject({ code: 'FUSION_ERR_NOT_SERIALIZABLE' });
    expect(await storage.exists()).toBe(false);
  });
});

describe('docs example (docs/helpers.md, filesystem)', () => {
  it('runs as shown', async () => {
    const casesDir = join(root, 'cases');
    const newCase = new Case({ name: 'phishing wave' });
    const names: string[] = [];
    // --- example starts
    // One directory per case: <casesDir>/<guid>/metadata.json, data, data.d/
    const storage = new ConceptStorage(casesDir, newCase.guid);
    await storage.create(newCase); // FUSION_ERR_FILE_EXISTS if it exists already
    await writeFile(join(storage.dataDir, 'notes.txt'), 'first notes');
    // Later: list every case directory and load its metadata.
    for await (const { guid } of iterGuidItems(casesDir)) {
      const loaded = await new ConceptStorage(casesDir, guid).loadMetadata(Case);
      if (loaded) names.push(`${loaded.name}: ${await diskUsage(join(casesDir, guid))} bytes`);
    }
    // --- example ends
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^phishing wave: \d+ bytes$/);
    expectDocumentedExample('tests/helper/filesystem.test.ts', 'filesystem');
  });
});
