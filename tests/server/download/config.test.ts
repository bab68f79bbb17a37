import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { ConfigReader } from '../../../src/helper/config.js';
import { DOWNLOAD_DEFAULTS, parseDownloadConfig } from '../../../src/server/download/config.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';

function parse(section: unknown, env: Record<string, string> = {}) {
  return parseConfig({ download: section }, { env }).download;
}

describe('download config', () => {
  it('has documented defaults: 64 pending keys, 5 s to first use, 60 s resume window', () => {
    expect(parseDownloadConfig(new ConfigReader({}))).toEqual({ maxPendingCount: 64, timeout: 5, resumeWindow: 60 });
    expect(DOWNLOAD_DEFAULTS).toEqual({ maxPendingCount: 64, timeout: 5, resumeWindow: 60 });
    expect(parse(null)).toEqual(DOWNLOAD_DEFAULTS);
  });

  it('reads snake_case keys, also from the environment', () => {
    const config = parse({ max_pending_count: 3, timeout: 0.5, resume_window: { env: 'WINDOW' } }, { WINDOW: '0' });
    expect(config).toEqual({ maxPendingCount: 3, timeout: 0.5, resumeWindow: 0 });
  });

  it('names the bad key', () => {
    expect(() => parse({ max_pending_count: 0 })).toThrow(/download\.max_pending_count: expected a positive integer, got 0/);
    expect(() => parse({ timeout: 0 })).toThrow(/download\.timeout: expected a number of seconds > 0/);
    expect(() => parse({ resume_window: -1 })).toThrow(/download\.resume_window/);
    expect(() => parse({ timeout: 'soon' })).toThrow(/download\.timeout/);
  });

  it('reports unknown keys with a suggestion', () => {
    expect(() => parse({ max_pending_cout: 3 })).toThrow(/download\.max_pending_cout: unknown key, did you mean `max_pending_count`\?/);
  });

  it('configures the mounted API from the section; constructor options win', async () => {
    const config = parseConfig({ server: { log_level: 'silent', docs: false }, storage: { url: 'memory://' }, download: { max_pending_count: 9, timeout: 2 } });
    const api = new FusionDownloadAPI({ timeout: 1 });
    expect(api.config).toEqual({ maxPendingCount: 64, timeout: 1, resumeWindow: 60 });
    const server = new FusionServer({ config, apis: [api] });
    try {
      await server.start();
      expect(api.config).toEqual({ maxPendingCount: 9, timeout: 1, resumeWindow: 60 });
    } finally {
      await server.close();
    }
  });

  it('is mounted by FusionServer.fromConfig when the section is present, and documented in OpenAPI', async () => {
    const server = await FusionServer.fromConfig({ server: { log_level: 'silent', docs: true }, storage: { url: 'memory://' }, download: { max_pending_count: 7 } });
    try {
      const api = server.apis.find((candidate) => candidate.name === 'download');
      expect(api).toBeInstanceOf(FusionDownloadAPI);
      const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
      expect((api as FusionDownloadAPI).config.maxPendingCount).toBe(7);
      const answer = await request(`${baseUrl}/api/openapi.json`);
      const document = (await answer.body.json()) as { paths: Record<string, { get: Record<string, unknown> }> };
      const operation = document.paths['/api/download/{guid}/{token}']!.get;
      expect((operation.parameters as { name: string }[]).map((p) => p.name)).toEqual(['guid', 'token']);
      expect(operation.responses).toMatchObject({ 200: { content: { 'application/octet-stream': { schema: { format: 'binary' } } } } });
      expect(operation.security).toEqual([]); // public: the token in the path is the credential
      expect(document.paths['/api/download/{guid}/{token}']).not.toHaveProperty('head');
    } finally {
      await server.close();
    }
  });
});
