/**
 * `fusion serve --config FILE`: loads the config and its service module, mounts the built-in APIs
 * and the module's, listens until SIGINT/SIGTERM. `--storage-url` (or FUSION_STORAGE_URL) overrides storage.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../helper/config.js';
import { createAuditLog } from '../../helper/audit-log.js';
import { createLogger, setRootLogger } from '../../helper/logging.js';
import { setAuditSink } from '../../helper/tracing.js';
import type { FusionServer } from '../../server/server.js';
import { EXIT_USAGE } from '../command.js';
import type { FusionCommand } from '../command.js';

function fail(message: string, code: number): number {
  process.stderr.write(`fusion serve: ${message}\n`);
  return code;
}

/** Runs `fusion serve`; resolves to undefined once listening (signals end the process), else an exit code. */
export async function runServe(args: readonly string[]): Promise<number | void> {
  let values: { config?: string; host?: string; port?: string; 'storage-url'?: string };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'storage-url': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return fail(`${(error as Error).message}\nusage: ${serveCommand.usage}`, EXIT_USAGE);
  }
  const path = values.config ?? process.env.FUSION_CONFIG;
  if (!path) return fail(`--config FILE is required (or set FUSION_CONFIG)\nusage: ${serveCommand.usage}`, EXIT_USAGE);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be an integer between 0 and 65535, got ${values.port}`, EXIT_USAGE);
  }
  let server: FusionServer;
  try {
    // Loaded here, not at the top: the other commands start without the server stack.
    const { loadServiceConfig } = await import('../../server/service-module.js');
    const { createServiceServer } = await import('../../server/service-server.js');
    const service = await loadServiceConfig(path, { ...(values['storage-url'] === undefined ? {} : { storageUrl: values['storage-url'] }) });
    const { config } = service;
    const logger = createLogger({ level: config.server.logLevel, name: config.info?.api });
    setRootLogger(logger);
    // Audit lines go through their own buffered destination, written out on exit (audit-log.ts).
    setAuditSink(createAuditLog({ level: config.server.logLevel, name: config.info?.api }).logger);
    server = await createServiceServer(service, { logger });
  } catch (error) {
    if (error instanceof ConfigError) return fail(`configuration error: ${error.message}`, EXIT_USAGE);
    return fail(`cannot build the server: ${(error as Error).message}`, 1);
  }
  const uninstall = server.installSignalHandlers();
  try {
    await server.listen({ ...(values.host === undefined ? {} : { host: values.host }), ...(port === undefined ? {} : { port }) });
  } catch (error) {
    uninstall();
    await server.close().catch(() => undefined);
    if (error instanceof ConfigError) return fail(`configuration error: ${error.message}`, EXIT_USAGE);
    return fail(`cannot start: ${(error as Error).message}`, 1);
  }
}

/** The `serve` command. */
export const serveCommand: FusionCommand = {
  name: 'serve',
  summary: 'Run a server from a config file (built-in APIs whose sections are present)',
  usage: 'fusion serve --config FILE [--host HOST] [--port PORT] [--storage-url URL]',
  run: runServe,
};
