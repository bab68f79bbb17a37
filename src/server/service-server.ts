/** Builds the FusionServer of a service: the config's built-in APIs plus what its service module adds. */
import type { FusionLogger } from '../helper/logging.js';
import { FusionServer } from './server.js';
import { serviceWorkers } from './service-module.js';
import type { LoadedService } from './service-module.js';

/** Options of createServiceServer. */
export interface CreateServiceServerOptions {
  /** Logger (default: a new pino logger at `server.log_level`). */
  logger?: FusionLogger;
}

/**
 * Mounts the config's built-in APIs and the module's own, registers its analyzers and its tasks
 * flagged `serve: true` (they run once the server listens), then runs the module's `setup`
 * (not started yet).
 */
export async function createServiceServer(service: LoadedService, options: CreateServiceServerOptions = {}): Promise<FusionServer> {
  const { config, module } = service;
  const apis = typeof module.apis === 'function' ? await module.apis(config) : (module.apis ?? []);
  const server = await FusionServer.fromConfig(config, {
    apis: [...apis],
    ...(options.logger ? { logger: options.logger } : {}),
    ...(module.caseClass ? { caseClass: module.caseClass } : {}),
    ...(module.migrations ? { migrations: module.migrations } : {}),
  });
  const { analyzers, tasks } = await serviceWorkers(module, config);
  server.addTask(...tasks.filter((task) => task.serve === true));
  if (analyzers.length > 0) {
    // Loaded only then: the analysis API pulls pg-boss and archiver (~200 ms of CPU at start).
    const { FusionAnalysisAPI } = await import('./analyzer/impl.js');
    const analysisApi = server.findApi(FusionAnalysisAPI);
    if (analysisApi) for (const analyzer of analyzers) if (!analysisApi.analyzers.includes(analyzer)) analysisApi.register(analyzer);
  }
  await module.setup?.(server);
  return server;
}
