import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dumpFile,
  formatOf,
  loadFile,
  parseText,
  SerializingError,
  stringify,
} from '../../src/helper/serializing.js';
import { expectDocumentedExample } from './docs-example.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-serializing-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<SerializingError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SerializingError);
    return error as SerializingError;
  }
  throw new Error('expected a rejection');
}

function caughtSync(fn: () => unknown): SerializingError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SerializingError);
    return error as SerializingError;
  }
  throw new Error('expected a throw');
}

const sample = {
  name: 'Case «été» 🚀',
  acs: ['analysts', 'alice'],
  nested: { count: 3, ratio: 0.5, ok: true, none: null, list: [{ a: 1 }, []] },
};

describe('formatOf', () => {
  it('maps .json, .yaml and .yml (any case)', () => {
    expect(formatOf('/a/b.json')).toBe('json');
    expect(formatOf('b.YAML')).toBe('yaml');
    expect(formatOf('c.yml')).toBe('yaml');
  });

  it('refuses other extensions with a clear message', () => {
    for (const path of ['/tmp/conf.toml', '/tmp/noext', '/tmp/x.json.bak']) {
      const error = caughtSync(() => formatOf(path));
      expect(error.code).toBe('FUSION_ERR_FILE_FORMAT');
      expect(error.message).toContain(path);
      expect(error.message).toContain('use .json, .yaml or .yml');
    }
  });
});

describe('loadFile / dumpFile', () => {
  it.each(['data.json', 'data.yaml', 'data.yml'])('round-trips a document through %s', async (name) => {
    const path = join(dir, name);
    await dumpFile(path, sample);
    expect(await loadFile(path)).toEqual(sample);
  });

  it('writes JSON with two-space indent and a final newline, YAML as block style', async () => {
    await dumpFile(join(dir, 'fmt.json'), { a: [1] });
    expect(await readFile(join(dir, 'fmt.json'), 'utf8')).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    await dumpFile(join(dir, 'fmt.yaml'), { a: [1], b: 'x' });
    expect(await readFile(join(dir, 'fmt.yaml'), 'utf8')).toBe('a:\n  - 1\nb: x\n');
  });

  it('serializes objects through toJSON in both formats', async () => {
    const concept = { secret: 'hidden', toJSON: () => ({ guid: 'g', created: '2024-11-02T09:30:00+00:00' }) };
    for (const name of ['c.json', 'c.yaml']) {
      await dumpFile(join(dir, name), concept);
      expect(await loadFile(join(dir, name))).toEqual({ guid: 'g', created: '2024-11-02T09:30:00+00:00' });
    }
  });

  it('refuses to load or dump an unsupported extension', async () => {
    expect((await caught(loadFile(join(dir, 'x.txt')))).code).toBe('FUSION_ERR_FILE_FORMAT');
    expect((await caught(dumpFile(join(dir, 'x.txt'), {}))).code).toBe('FUSION_ERR_FILE_FORMAT');
    expect(await readdir(dir)).not.toContain('x.txt');
  });

  it('reports a missing file with its path', async () => {
    const path = join(dir, 'missing.yaml');
    const error = await caught(loadFile(path));
    expect(error.code).toBe('FUSION_ERR_FILE_IO');
    expect(error.file).toBe(path);
    expect(error.message).toBe(`${path}: cannot read file (ENOENT)`);
  });

  it('names the file and line of broken JSON without echoing the content', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "user": "alice",\n  "password": "s3cret",\n  "port": ,\n}\n');
    const error = await caught(loadFile(path));
    expect(error.code).toBe('FUSION_ERR_FILE_PARSE');
    expect(error.file).toBe(path);
    expect(error.line).toBe(4);
    expect(error.column).toBe(11);
    expect(error.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:11: invalid JSON: `));
    expect(error.message).not.toContain('s3cret');
  });

  it('names the file and line of broken YAML', async () => {
    const path = join(dir, 'broken.yml');
    await writeFile(path, 'server:\n  port: 8080\n  port: 8081\n');
    const error = await caught(loadFile(path));
    expect(error.code).toBe('FUSION_ERR_FILE_PARSE');
    expect(error.line).toBe(3);
    expect(error.message).toBe(`${path}:3:3: invalid YAML: Map keys must be unique`);
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const path = join(dir, 'bom.json');
    await writeFile(path, '\uFEFF{"a": 1}');
    expect(await loadFile(path)).toEqual({ a: 1 });
  });

  it('leaves the previous file and no temp file when the value cannot be serialized', async () => {
    const sub = await mkdtemp(join(dir, 'unserializable-'));
    const path = join(sub, 'keep.json');
    await dumpFile(path, { version: 1 });
    const error = await caught(dumpFile(path, { big: 10n }));
    expect(error.code).toBe('FUSION_ERR_NOT_SERIALIZABLE');
    expect(await loadFile(path)).toEqual({ version: 1 });
    expect(await readdir(sub)).toEqual(['keep.json']);
  });

  it('reports a write into a missing directory and creates nothing', async () => {
    const path = join(dir, 'no-such-dir', 'x.json');
    const error = await caught(dumpFile(path, {}));
    expect(error.code).toBe('FUSION_ERR_FILE_IO');
    expect(error.message).toBe(`${path}: cannot write file (ENOENT)`);
  });

  it('keeps the mode of the file it replaces', async () => {
    const path = join(dir, 'secret.yaml');
    await dumpFile(path, { a: 1 });
    await chmod(path, 0o600);
    await dumpFile(path, { a: 2 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadFile(path)).toEqual({ a: 2 });
  });

  it('never shows a reader a partial file while writers race', async () => {
    const sub = await mkdtemp(join(dir, 'race-'));
    const path = join(sub, 'doc.json');
    const big = (n: number) => ({ n, items: Array.from({ length: 2000 }, (_, i) => `item-${n}-${i}`) });
    await dumpFile(path, big(0));
    let writing = true;
    const reader = (async () => {
      let reads = 0;
      while (writing || reads === 0) {
        const value = (await loadFile(path)) as { n: number; items: string[] };
        expect(value.items).toHaveLength(2000);
        expect(value.items[1999]).toBe(`item-${value.n}-1999`);
        reads++;
      }
      return reads;
    })();
    await Promise.all(Array.from({ length: 20 }, (_, n) => dumpFile(path, big(n + 1))));
    writing = false;
    expect(await reader).toBeGreaterThan(0);
    expect(await readdir(sub)).toEqual(['doc.json']);
  });
});

describe('parseText / stringify', () => {
  it('round-trips any JSON value in both formats', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const normal = JSON.parse(JSON.stringify(value)) as unknown;
        expect(parseText(stringify(value, 'json'), 'json')).toEqual(normal);
        expect(parseText(stringify(value, 'yaml'), 'yaml')).toEqual(normal);
      }),
    );
  });

  it('locates the error in any truncated JSON document', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
        fc.nat(),
        (value, cut) => {
          const text = JSON.stringify(value, null, 2);
          const broken = text.slice(0, cut % (text.length - 1));
          const error = caughtSync(() => parseText(broken, 'json', 'doc.json'));
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.message).toMatch(/^doc\.json:\d+:\d+: invalid JSON: /);
        },
      ),
    );
  });

  it.each([
    ['{"a": 1,}', 1, 9],
    ['[1, 2', 1, 6],
    ['{"a": tru}', 1, 10],
    ['{"a": 01}', 1, 8],
    ['{"a": "x\ny"}', 1, 9],
    ['{\n"a": 1\n"b": 2}', 3, 1],
    ['{"a": "\\q"}', 1, 9],
    ['1 2', 1, 3],
    ['', 1, 1],
  ])('reports %j at line %i, column %i', (text, line, column) => {
    const error = caughtSync(() => parseText(text, 'json'));
    expect([error.line, error.column]).toEqual([line, column]);
    expect(error.message.startsWith(`<json>:${line}:${column}: invalid JSON: `)).toBe(true);
  });

  it('refuses values JSON cannot represent', () => {
    expect(caughtSync(() => stringify(undefined, 'yaml')).message).toBe('cannot serialize a value of type undefined');
    expect(caughtSync(() => stringify(() => 1, 'json')).code).toBe('FUSION_ERR_NOT_SERIALIZABLE');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(caughtSync(() => stringify(cyclic, 'json')).message).toMatch(/^cannot serialize value: /);
  });

  it('reads YAML 1.2: yes stays a string, dates stay strings', () => {
    expect(parseText('a: yes\nb: 2024-11-02\nc: 0x10\n', 'yaml')).toEqual({ a: 'yes', b: '2024-11-02', c: 16 });
  });
});

describe('docs example (docs/helpers.md, serializing)', () => {
  it('runs', async () => {
    // --- example starts
    const path = join(dir, 'state.yaml');
    await dumpFile(path, { cases: 3, updated: '2024-11-02T09:30:00+00:00' }); // temp file + fsync + rename
    const state = await loadFile(path); // unknown: check it before use
    const text = stringify(state, 'json'); // '{\n  "cases": 3,\n  "updated": ...}\n'
    // --- example ends
    expect(state).toEqual({ cases: 3, updated: '2024-11-02T09:30:00+00:00' });
    expect(text.startsWith('{\n  "cases": 3,\n  "updated": ')).toBe(true);
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/serializing.test.ts', 'serializing');
  });
});
