/**
 * What `fusion task` and `fusion analyzer` share: read `--config` / `--storage-url`, load the
 * service module, build and start its server without listening (storage open, migrated, APIs
 * started, so events are published as under `fusion serve`), and stop on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../helper/config.js';
import { createLogger, setRootLogger } from '../../helper/logging.js';
import type { FusionServer } from '../../server/server.js';
import type { FusionAnalyzer } from '../../server/analyzer/analyzer.js';
import type { FusionTask } from '../../server/task/task.js';
import { EXIT_USAGE } from '../command.js';

/** A started role: its server (not listening) and the service's tasks and analyzers. */
export interface StartedRole {
  server: FusionServer;
  tasks: readonly FusionTask[];
  analyzers: readonly FusionAnalyzer[];
}

/** Parsed arguments of a role command. */
export interface RoleArguments {
  name: string;
  values: Record<string, string | boolean | undefined>;
}

/** Writes `fusion COMMAND: message` to stderr and returns `code`. */
export function roleFail(command: string, message: string, code: number): number {
  process.stderr.write(`fusion ${command}: ${message}\n`);
  return code;
}

/** Parses `NAME --config FILE [--storage-url URL]` plus `extra` options; an exit code on a usage error. */
export function parseRoleArguments(
  command: string,
  usage: string,
  args: readonly string[],
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): RoleArguments | number {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { config: { type: 'string', short: 'c' }, 'storage-url': { type: 'string' }, ...extra },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length !== 1) return roleFail(command, `expected one NAME, got ${positionals.length}\nusage: ${usage}`, EXIT_USAGE);
    if (!values.config && !process.env.FUSION_CONFIG) return roleFail(command, `--config FILE is required (or set FUSION_CONFIG)\nusage: ${usage}`, EXIT_USAGE);
    return { name: positionals[0]!, values: values as Record<string, string | boolean | undefined> };
  } catch (error) {
    return roleFail(command, `${(error as Error).message}\nusage: ${usage}`, EXIT_USAGE);
  }
}

/** Loads the service and starts its server (no listening); an exit code on failure. */
export async function startRole(command: string, parsed: RoleArguments): Promise<StartedRole | number> {
  const path = (parsed.values.config as string | undefined) ?? process.env.FUSION_CONFIG!;
  const storageUrl = parsed.values['storage-url'] as string | undefined;
  let server: FusionServer;
  let workers: { tasks: readonly FusionTask[]; analyzers: readonly FusionAnalyzer[] };
  try {
    // Loaded here, not at the top: `fusion serve` and the light commands start without them.
    const { loadServiceConfig, serviceWorkers } = await import('../../server/service-module.js');
    const { createServiceServer } = await import('../../server/service-server.js');
    const service = await loadServiceConfig(path, storageUrl === undefined ? {} : { storageUrl });
    const logger = createLogger({ level: service.config.server.logLevel, name: service.config.info?.api });
    setRootLogger(logger);
    workers = await serviceWorkers(service.module, service.config);
    server = await createServiceServer(service, { logger });
  } catch (error) {
    if (error instanceof ConfigError) return roleFail(command, `configuration error: ${error.message}`, EXIT_USAGE);
    return roleFail(command, `cannot build the service: ${(error as Error).message}`, 1);
  }
  try {
    await server.start();
  } catch (error) {
    await server.close().catch(() => undefined);
    if (error instanceof ConfigError) return roleFail(command, `configuration error: ${error.message}`, EXIT_USAGE);
    return roleFail(command, `cannot start: ${(error as Error).message}`, 1);
  }
  return { server, ...workers };
}

/** On SIGINT/SIGTERM: `stop()`, close the server, exit 0 (1 on failure; a second signal exits at once). */
export function stopOnSignals(server: FusionServer, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    server.logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => process.exit(1), server.config.server.shutdownTimeout * 1000);
    timer.unref();
    stop()
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
