/** The service module: config `service.module`, its sections, APIs, Case class and setup; the storage override. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { ConfigError } from '../../../src/helper/config-error.js';
import { parseConfig, withStorageUrl } from '../../../src/server/config.js';
import { loadServiceConfig } from '../../../src/server/service-module.js';
import { createServiceServer } from '../../../src/server/service-server.js';
import type { FusionServer } from '../../../src/server/server.js';

const MODULE = fileURLToPath(new URL('../../fixtures/service/module.ts', import.meta.url));

describe('service module', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function configFile(text: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'fusion-service-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'config.yaml');
    await writeFile(path, text);
    return path;
  }

  it('mounts the module APIs after the built-ins, parses its sections, uses its Case class, runs setup', async () => {
    const path = await configFile(`server: {log_level: silent}\nstorage: {url: "memory://"}\ninfo: {api: svc}\nservice: {module: ${JSON.stringify(MODULE)}}\nping: {word: hello}\n`);
    const service = await loadServiceConfig(path, { env: {} });
    expect(service.config.extra.ping).toEqual({ word: 'hello' });
    const server: FusionServer = await createServiceServer(service);
    cleanups.push(() => server.close());
    const fixture = await import('../../fixtures/service/module.js');
    expect(server.apis.map((api) => api.name)).toEqual(['info', 'ping']);
    expect(server.caseClass).toBe(fixture.TicketCase);
    expect(fixture.setupCalls.at(-1)).toEqual(['info', 'ping']);
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const answer = await request(`${base}/api/ping`);
    expect(await answer.body.json()).toEqual({ status: 200, data: { pong: 'hello' }, count: 1 });
  }, 60_000);

  it('resolves a relative module path against the config directory', () => {
    const config = parseConfig({ service: { module: './svc.js' } }, { baseDir: '/srv/app' });
    expect(config.service).toEqual({ module: '/srv/app/svc.js' });
    expect(parseConfig({ service: { module: 'my-service-package' } }).service).toEqual({ module: 'my-service-package' });
  });

  it('refuses an unknown service key and a module that cannot be imported, naming the key', async () => {
    expect(() => parseConfig({ service: { modul: 'x' } })).toThrow(/service\.modul: unknown key/);
    const path = await configFile('service:\n  module: ./nowhere.js\n');
    await expect(loadServiceConfig(path, { env: {} })).rejects.toThrow(ConfigError);
    await expect(loadServiceConfig(path, { env: {} })).rejects.toThrow(/service\.module.*cannot import/);
  });

  it('refuses the service sections when no module declares them', async () => {
    const path = await configFile('ping: {word: hello}\n');
    await expect(loadServiceConfig(path, { env: {} })).rejects.toThrow(/ping: unknown key/);
  });

  it('storage override: the flag beats FUSION_STORAGE_URL, which beats the file; a bad URL names its origin', async () => {
    const path = await configFile('storage: {url: "pglite://./data"}\n');
    expect((await loadServiceConfig(path, { env: {} })).config.storage.url).toBe('pglite://./data');
    expect((await loadServiceConfig(path, { env: { FUSION_STORAGE_URL: 'memory://' } })).config.storage.url).toBe('memory://');
    const both = await loadServiceConfig(path, { env: { FUSION_STORAGE_URL: 'memory://' }, storageUrl: 'postgres://u@h/db' });
    expect(both.config.storage.url).toBe('postgres://u@h/db');
    await expect(loadServiceConfig(path, { env: {}, storageUrl: 'mysql://x' })).rejects.toThrow(/--storage-url: expected postgres/);
    await expect(loadServiceConfig(path, { env: { FUSION_STORAGE_URL: 'nope' } })).rejects.toThrow(/FUSION_STORAGE_URL: expected/);
    const config = parseConfig({});
    expect(withStorageUrl(config, undefined)).toBe(config);
    expect(withStorageUrl(config, '')).toBe(config);
  });
});
