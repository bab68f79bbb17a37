/** A server with only the download API on PGlite, its log lines kept, and a directory of files to serve (for the token suites). */
import { rm } from 'node:fs/promises';
import { createLogger } from '../../../src/helper/logging.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { tempDir } from '../download/harness.js';
import { logSink } from '../harness.js';

/** The running server and what a test reads of it. */
export interface DownloadTokenServer {
  api: FusionDownloadAPI;
  port: number;
  /** Where the test puts the files it serves. */
  dir: string;
  /** Every log line so far (JSON objects). */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the server with `config` merged over request logging on, logging at `level`. */
export async function startDownloadTokenServer(config: Record<string, unknown>, level: 'trace' | 'info'): Promise<DownloadTokenServer> {
  const storage: KnexStorage = await freshStorage('pglite');
  const dir = await tempDir();
  const api = new FusionDownloadAPI();
  const sink = logSink();
  const server = new FusionServer({
    config: parseConfig({ server: { docs: false, log_requests: true }, ...config }),
    storage,
    apis: [api],
    logger: createLogger({ stream: sink.stream, level }),
  });
  const port = Number(new URL(await server.listen({ host: '127.0.0.1', port: 0 })).port);
  return {
    api,
    port,
    dir,
    logs: sink.lines,
    async close() {
      await server.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
