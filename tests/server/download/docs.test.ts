/** Runs the examples of docs/downloads.md and checks the page shows them verbatim. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FusionClient } from '../../../src/client/client.js';
import { FusionDownloadAPIClient } from '../../../src/client/api/download.js';
import { PendingDownloadKey } from '../../../src/concept/index.js';
import { FusionAPI } from '../../../src/server/api.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { removeAll, tempDir } from './harness.js';

/** The lines between `// --- example <name> starts` and `// --- example <name> ends` in this file, dedented. */
function example(name: string): string {
  const lines = readFileSync(join(process.cwd(), 'tests/server/download/docs.test.ts'), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === `// --- example ${name} starts`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === `// --- example ${name} ends`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((line) => line.slice(indent)).join('\n');
}

// --- example server starts
/** A service API whose route hands out a one-time link to a generated report. */
class ReportAPI extends FusionAPI {
  readonly name = 'report';

  constructor(
    private readonly downloads: FusionDownloadAPI,
    private readonly reportPath: string,
  ) {
    super();
  }

  setup(app: FastifyInstance, server: FusionServer): void {
    // Public here to keep the example short; a real route would authorize 'retrieve_report'.
    server.route(app, { method: 'GET', url: '/api/report', operation: 'retrieve_report', public: true }, () =>
      this.downloads.prepare(this.reportPath, 'rapport été.pdf'), // -> {"guid": "...", "token": "..."}
    );
  }
}

async function startService(config: ReturnType<typeof parseConfig>, storage: KnexStorage, reportPath: string) {
  const downloads = new FusionDownloadAPI(); // settings from the `download` section
  const server = new FusionServer({ config, storage, apis: [downloads, new ReportAPI(downloads, reportPath)] });
  return { server, baseUrl: await server.listen({ host: '127.0.0.1', port: 0 }) };
}
// --- example server ends

describe('docs/downloads.md examples', () => {
  let storage: KnexStorage;
  let dir: string;
  let service: { server: FusionServer; baseUrl: string };
  let client: FusionClient;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    dir = await tempDir();
    await writeFile(join(dir, 'report.pdf'), '%PDF-1.7 example');
    const config = parseConfig({ server: { log_level: 'silent', docs: false }, download: { max_pending_count: 16, timeout: 30 } });
    service = await startService(config, storage, join(dir, 'report.pdf'));
    client = new FusionClient({ baseUrl: service.baseUrl });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await service?.server.close();
    await storage?.close();
    await removeAll(dir);
  });

  it('runs the client example: download into a directory, named by the server', async () => {
    const outputDir = dir;
    const progress: string[] = [];
    // --- example client starts
    const key = await client.getConcept('/api/report', PendingDownloadKey);
    const downloads = new FusionDownloadAPIClient({ client });
    const { path, bytes } = await downloads.download(key, outputDir, {
      onProgress: (done, total) => progress.push(`${done}/${total ?? '?'}`),
      signal: AbortSignal.timeout(60_000),
    });
    // path = <outputDir>/rapport été.pdf (from Content-Disposition); a dropped connection was resumed.
    // --- example client ends
    expect(path).toBe(join(dir, 'rapport été.pdf'));
    expect(await readFile(path, 'utf8')).toBe('%PDF-1.7 example');
    expect(bytes).toBe(16);
    expect(progress.at(-1)).toBe('16/16');
    await expect(downloads.download(key, outputDir)).rejects.toMatchObject({ code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
  });

  it('shows both examples verbatim', () => {
    const docs = readFileSync(join(process.cwd(), 'docs', 'downloads.md'), 'utf8');
    expect(docs).toContain(example('server'));
    expect(docs).toContain(example('client'));
  });
});
