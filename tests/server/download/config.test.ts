import { describe, expect, it } from '@jest/globals';
import { ConfigReader } from '../../../src/helper/config.js';
import { DOWNLOAD_DEFAULTS, loadDownloadConfig, parseDownloadConfig } from '../../../src/server/download/config.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';

describe('download config', () => {
  it('has documented defaults: 64 pending keys, 5 s to first use, 60 s resume window', () => {
    expect(parseDownloadConfig(new ConfigReader({}))).toEqual({ maxPendingCount: 64, timeout: 5, resumeWindow: 60 });
    expect(DOWNLOAD_DEFAULTS).toEqual({ maxPendingCount: 64, timeout: 5, resumeWindow: 60 });
  });

  it('reads snake_case keys, also from the environment', () => {
    const config = loadDownloadConfig({ max_pending_count: 3, timeout: 0.5, resume_window: { env: 'WINDOW' } }, { env: { WINDOW: '0' } });
    expect(config).toEqual({ maxPendingCount: 3, timeout: 0.5, resumeWindow: 0 });
  });

  it('names the bad key', () => {
    expect(() => loadDownloadConfig({ max_pending_count: 0 })).toThrow(/download\.max_pending_count: expected a positive integer, got 0/);
    expect(() => loadDownloadConfig({ timeout: 0 })).toThrow(/download\.timeout: expected a number of seconds > 0/);
    expect(() => loadDownloadConfig({ resume_window: -1 })).toThrow(/download\.resume_window/);
    expect(() => loadDownloadConfig({ timeout: 'soon' })).toThrow(/download\.timeout/);
  });

  it('reports unknown keys with a suggestion', () => {
    expect(() => loadDownloadConfig({ max_pending_cout: 3 })).toThrow(/download\.max_pending_cout: unknown key, did you mean `max_pending_count`\?/);
  });

  it('fails the server start on a bad download section', async () => {
    const config = parseConfig({ server: { log_level: 'silent', docs: false }, storage: { url: 'memory://' }, download: { timeuot: 3 } });
    const server = new FusionServer({ config, apis: [new FusionDownloadAPI()] });
    await expect(server.start()).rejects.toMatchObject({ code: 'FUSION_ERR_CONFIG', key: 'download.timeuot' });
    await server.close();
  });

  it('lets constructor options win over the section', async () => {
    const config = parseConfig({ server: { log_level: 'silent', docs: false }, storage: { url: 'memory://' }, download: { max_pending_count: 9, timeout: 2 } });
    const api = new FusionDownloadAPI({ timeout: 1 });
    const server = new FusionServer({ config, apis: [api] });
    try {
      await server.start();
      expect(api.config).toEqual({ maxPendingCount: 9, timeout: 1, resumeWindow: 60 });
    } finally {
      await server.close();
    }
  });
});
