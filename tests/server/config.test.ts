import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../src/helper/config.js';
import { DEFAULT_STORAGE_URL, loadConfig, parseConfig } from '../../src/server/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('gives defaults for an empty document', () => {
    const config = parseConfig({});
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      clientMaxSize: 1024 * 1024,
      trustProxy: false,
      logLevel: undefined,
      logRequests: true,
      docs: true,
      shutdownTimeout: 10,
      requestTimeout: 300,
      bodyIdleTimeout: 30,
    });
    expect(config.storage).toEqual({ url: DEFAULT_STORAGE_URL, schema: undefined, poolMax: undefined });
    expect(config.info).toBeUndefined();
    expect(config.auth).toBeUndefined();
  });

  it('names unknown keys at any depth, with a suggestion', () => {
    expect(configError(() => parseConfig({ sever: {} })).key).toBe('sever');
    const nested = configError(() => parseConfig({ server: { client_max_sise: 10 } }));
    expect(nested.key).toBe('server.client_max_sise');
    expect(nested.message).toContain('did you mean `client_max_size`');
    expect(configError(() => parseConfig({ info: { auth_requierd: true } })).key).toBe('info.auth_requierd');
  });

  it('names mistyped values', () => {
    expect(configError(() => parseConfig({ server: { port: 'eighty' } })).message).toMatch(/^server\.port: expected an integer/);
    expect(configError(() => parseConfig({ storage: { url: 'mysql://x' } })).key).toBe('storage.url');
    expect(configError(() => parseConfig({ constant: {} })).key).toBe('constant.path');
    expect(configError(() => parseConfig({ constant: { path: 'c.txt' } })).key).toBe('constant.path');
    expect(configError(() => parseConfig({ server: { trust_proxy: { a: 1 } } })).key).toBe('server.trust_proxy');
  });

  it('treats an empty section as present (it mounts its API with defaults)', () => {
    const config = parseConfig({ info: null, case: null });
    expect(config.info).toEqual({ authRequired: false, api: undefined, version: undefined });
    expect(config.case).toEqual({ allowEmptyAcs: true });
    expect(config.raw.case).toEqual({});
  });

  it('reads trust_proxy as a flag, a hop count or proxy addresses', () => {
    expect(parseConfig({ server: { trust_proxy: true } }).server.trustProxy).toBe(true);
    expect(parseConfig({ server: { trust_proxy: 2 } }).server.trustProxy).toBe(2);
    expect(parseConfig({ server: { trust_proxy: '10.0.0.0/8, 127.0.0.1' } }).server.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('takes secrets from the environment with { env: NAME }', () => {
    const key = 'k'.repeat(32);
    const document = {
      auth: { backend: { strategy: 'basic', basic: { users: [] } }, clients: [{ name: 'svc', key: { env: 'SVC_KEY' } }] },
    };
    expect(parseConfig(document, { env: { SVC_KEY: key } }).auth?.clients).toEqual([{ name: 'svc', key }]);
    const missing = configError(() => parseConfig(document, { env: {} }));
    expect(missing.key).toBe('auth.clients[0].key');
    expect(missing.message).toContain('SVC_KEY');
  });

  it('falls back to the default of { env: NAME, default: VALUE } when the variable is unset', () => {
    const document = { server: { port: { env: 'PORT', default: 8080 } }, storage: { url: { env: 'DATABASE_URL', default: 'memory://' }, schema: { env: 'SCHEMA', default: null } } };
    const unset = parseConfig(document, { env: {} });
    expect([unset.server.port, unset.storage.url, unset.storage.schema]).toEqual([8080, 'memory://', undefined]);
    const set = parseConfig(document, { env: { PORT: '9000', DATABASE_URL: 'postgres://db/fusion', SCHEMA: 'svc' } });
    expect([set.server.port, set.storage.url, set.storage.schema]).toEqual([9000, 'postgres://db/fusion', 'svc']);
    expect(configError(() => parseConfig({ server: { port: { env: 'PORT', default: 'x' } } }, { env: {} })).message).toBe(
      'server.port: expected an integer between 0 and 65535, got "x" (the default of { env: PORT }, which is not set)',
    );
  });

  it("parses a service's own sections into extra, and refuses to shadow built-in ones", () => {
    const config = parseConfig({ scanner: { depth: 3 } }, { sections: { scanner: (r) => ({ depth: r.integer('depth') }) } });
    expect(config.extra.scanner).toEqual({ depth: 3 });
    expect(() => parseConfig({}, { sections: { info: () => 1 } })).toThrow(/built-in section/);
    expect(configError(() => parseConfig({ scanner: { depht: 3 } }, { sections: { scanner: (r) => r.optionalInteger('depth') } })).key).toBe(
      'scanner.depht',
    );
  });
});

describe('loadConfig', () => {
  it('reads YAML and resolves relative paths against the file', async () => {
    const path = join(dir, 'a.yaml');
    await writeFile(path, 'constant:\n  path: sub/constant.json\n  auth_required: true\n');
    const config = await loadConfig(path);
    expect(config.constant).toEqual({ path: join(dir, 'sub/constant.json'), authRequired: true });
    expect(config.baseDir).toBe(dir);
  });

  it('reads JSON and reports a missing or broken file as a ConfigError', async () => {
    const path = join(dir, 'b.json');
    await writeFile(path, JSON.stringify({ server: { port: 9000 } }));
    expect((await loadConfig(path)).server.port).toBe(9000);
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(ConfigError);
    await writeFile(join(dir, 'broken.yaml'), 'server: [unclosed\n');
    await expect(loadConfig(join(dir, 'broken.yaml'))).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('broken.yaml') });
  });
});
