/**
 * A FusionServer for benchmarks, set up as `fusion serve` sets one up: built-in APIs from the
 * config document, one logger at the environment's level (FUSION_DEBUG, default info) that is
 * also the root logger, written to a log file (a temp file, not the terminal), request logging
 * as configured; audit lines go to the same file through their own buffered destination, as
 * `fusion serve` does (FUSION_BENCH_AUDIT=sync: through the root logger, one write per line).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog } from '../../src/helper/audit-log.js';
import { createLogger, flushLogs, setRootLogger } from '../../src/helper/logging.js';
import { setAuditSink } from '../../src/helper/tracing.js';
import { FusionServer } from '../../src/server/server.js';
import type { FusionAPI } from '../../src/server/api.js';

/** A running benchmark server. */
export interface BenchFusionServer {
  server: FusionServer;
  url: string;
  /** The log file (audit lines and warnings). */
  logFile: string;
  /** Closes the server, flushes and removes the log, and restores the root logger. */
  close(): Promise<{ logBytes: number }>;
}

/** A random API key for the config's `auth.clients` (long enough for the auth section's minimum). */
export function benchApiKey(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The auth section of a service with one API-key client and no users (the basic backend with
 * an empty user list): session routes are mounted, API keys are how the benchmark calls it.
 */
export function benchAuthSection(apiKey: string): Record<string, unknown> {
  return {
    backend: { strategy: 'basic', basic: { users: [] } },
    clients: [{ name: 'bench-client', key: apiKey }],
  };
}

/** Starts `FusionServer.fromConfig(document)` on 127.0.0.1 (random port), logging to a temp file. */
export async function startFusionServer(document: Record<string, unknown>, apis: FusionAPI[] = []): Promise<BenchFusionServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fusion-bench-log-'));
  const logFile = join(dir, 'server.log');
  const logger = createLogger({ file: logFile, name: 'bench' });
  setRootLogger(logger);
  const audit = process.env.FUSION_BENCH_AUDIT === 'sync' ? null : createAuditLog({ file: logFile, name: 'bench' });
  if (audit) setAuditSink(audit.logger);
  const release = (): void => {
    audit?.close();
    setAuditSink(undefined);
    setRootLogger(undefined);
  };
  let server: FusionServer | undefined;
  try {
    server = await FusionServer.fromConfig(document, { logger, apis });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const running = server;
    return {
      server: running,
      url,
      logFile,
      async close() {
        await running.close();
        await flushLogs(logger);
        release();
        const logBytes = (await stat(logFile).catch(() => ({ size: 0 }))).size;
        await rm(dir, { recursive: true, force: true });
        return { logBytes };
      },
    };
  } catch (error) {
    await server?.close().catch(() => undefined);
    release();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
