import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/helper/config.js';
import { parseStorageUrl, redactStorageUrl } from '../../../src/server/storage/storage-url.js';

describe('parseStorageUrl', () => {
  it('reads postgres:// and postgresql:// URLs as they are', () => {
    expect(parseStorageUrl('postgres://postgres@127.0.0.1:5432/test')).toMatchObject({
      kind: 'postgres',
      connectionString: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(parseStorageUrl('postgresql://u:p@db.example/prod?sslmode=require')).toMatchObject({
      kind: 'postgres',
      display: 'postgresql://u:***@db.example/prod?sslmode=require',
    });
    expect(parseStorageUrl('POSTGRES://db/x').kind).toBe('postgres');
  });

  it('resolves pglite directories: absolute as given, relative against baseDir or cwd', () => {
    expect(parseStorageUrl('pglite:///var/lib/svc')).toMatchObject({ kind: 'pglite', dir: '/var/lib/svc' });
    expect(parseStorageUrl('pglite://.data/pglite', { baseDir: '/srv/app' })).toMatchObject({ kind: 'pglite', dir: '/srv/app/.data/pglite' });
    expect(parseStorageUrl('pglite://data')).toMatchObject({ kind: 'pglite', dir: resolve(process.cwd(), 'data') });
    expect(parseStorageUrl('pglite://./a/../b', { baseDir: '/x' })).toMatchObject({ dir: '/x/b' });
  });

  it('reads memory://', () => {
    expect(parseStorageUrl('memory://')).toEqual({ kind: 'memory', display: 'memory://' });
  });

  it.each([
    ['mysql://root@localhost/db', /unsupported scheme "mysql:\/\/"/, true],
    ['sqlite://file.db', /unsupported scheme/, true],
    ['', /missing/, true],
    ['   ', /missing/, true],
    ['just-a-path', /is not a URL/, true],
    ['pglite://', /needs a directory/, false],
    ['memory://something', /takes nothing after the scheme/, false],
    ['postgres://', /names no host/, false],
    ['postgres://[bad', /not a valid PostgreSQL URL/, false],
  ])('refuses %j naming storage.url', (url, problem, listsForms) => {
    let caught: unknown;
    try {
      parseStorageUrl(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe('FUSION_ERR_CONFIG');
    expect(error.key).toBe('storage.url');
    expect(error.message).toMatch(/^storage\.url: /);
    expect(error.message).toMatch(problem);
    if (listsForms) {
      expect(error.message).toContain('postgres://');
      expect(error.message).toContain('pglite://DIR');
      expect(error.message).toContain('memory://');
    }
  });

  it('never repeats a password in its errors', () => {
    expect(() => parseStorageUrl('mongodb://admin:hunter2@db/x')).toThrow(/mongodb:\/\/admin:\*\*\*@db\/x/);
    expect(() => parseStorageUrl('mongodb://admin:hunter2@db/x')).not.toThrow(/hunter2/);
  });
});

describe('redactStorageUrl', () => {
  it('hides the password only', () => {
    expect(redactStorageUrl('postgres://u:secret@h:5432/d')).toBe('postgres://u:***@h:5432/d');
    expect(redactStorageUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
    expect(redactStorageUrl('pglite://.data/x')).toBe('pglite://.data/x');
  });
});
