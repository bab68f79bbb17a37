import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Case, ConceptError, Event, field } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-concept-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fromFile / toFile', () => {
  it.each(['case.json', 'case.yaml', 'case.yml'])('round-trips a case through %s', async (name) => {
    const path = join(dir, name);
    const c = Case.fromJSON(edfFixture('case'));
    await c.toFile(path);
    const back = await Case.fromFile(path);
    expect(back).toBeInstanceOf(Case);
    expect(back.equals(c)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the wire form (JSON text, YAML text)', async () => {
    const c = Case.fromJSON(edfFixture('case'));
    await c.toFile(join(dir, 'wire.json'));
    expect(JSON.parse(await readFile(join(dir, 'wire.json'), 'utf8'))).toEqual(edfFixture('case'));
    await c.toFile(join(dir, 'wire.yaml'));
    const yaml = await readFile(join(dir, 'wire.yaml'), 'utf8');
    expect(yaml).toContain('created: 2024-11-02T09:30:00+00:00');
    expect(yaml).toContain('name: Suspicious login');
  });

  it('reads a hand-written YAML document and returns the class it is called on', async () => {
    class NoteCase extends Case.extend('NoteCase', { note: field.string().default('') }) {}
    const path = join(dir, 'note.yaml');
    await writeFile(path, 'name: From YAML\nacs: [b, a]\nnote: hello\ncreated: 2024-11-02T10:30:00+01:00\n');
    const c = await NoteCase.fromFile(path);
    expect(c).toBeInstanceOf(NoteCase);
    expect(c.note).toBe('hello');
    expect(c.acs).toEqual(['a', 'b']);
    expect(c.toJSON().created).toBe('2024-11-02T09:30:00+00:00');
  });

  it('reports invalid content with a ConceptError and bad files with a coded error', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ ...edfFixture('event'), category: 5 }));
    await expect(Event.fromFile(path)).rejects.toThrow(new ConceptError({ conceptName: 'Event', segments: ['category'], detail: 'expected string, got 5' }));
    await writeFile(join(dir, 'broken.json'), '{"name": ');
    await expect(Case.fromFile(join(dir, 'broken.json'))).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_PARSE' });
    await expect(Case.fromFile(join(dir, 'case.txt'))).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_FORMAT' });
    await expect(Case.fromFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_IO' });
  });
});
