/**
 * Public surface of fusion-framework (the root path). Each layer is a namespace (`concept`,
 * `helper`, `server`, `client`), and the names a service uses most are listed flat. Importing
 * the root loads the server layer (fastify, knex): a client-only program imports
 * `fusion-framework/client` and `fusion-framework/concept` instead.
 */
export * as concept from './concept/index.js';
export * as helper from './helper/index.js';
export * as server from './server/index.js';
export * as client from './client/index.js';

// concepts
export {
  Analysis,
  AnalysisPriority,
  AnalysisStatus,
  AnalyzerInfo,
  AuthInfo,
  Case,
  Concept,
  ConceptError,
  Constant,
  Event,
  Identities,
  Identity,
  Info,
  PendingDownloadKey,
  defineConcept,
  field,
  fusionSerializer,
  registerConcept,
} from './concept/index.js';
// errors, config, logging
export { ConfigError, ConfigReader, FUSION_ERRORS, FusionError, createLogger, getLogger, isFusionError } from './helper/index.js';
export type { FusionErrorCode, FusionLogger } from './helper/index.js';
// server
export {
  FusionAPI,
  FusionAuthAPI,
  FusionCaseAPI,
  FusionConstantAPI,
  FusionDownloadAPI,
  FusionEventAPI,
  FusionInfoAPI,
  FusionServer,
  loadConfig,
  openStorage,
} from './server/index.js';
export type { FastifyInstance, FusionAuthorizer, FusionConfig, FusionStorage, RouteContext, RouteSpec } from './server/index.js';
// client
export {
  FusionAuthAPIClient,
  FusionCaseAPIClient,
  FusionClient,
  FusionClientError,
  FusionConstantAPIClient,
  FusionDownloadAPIClient,
  FusionInfoAPIClient,
} from './client/index.js';
export type { FusionClientOptions } from './client/index.js';
// tasks and analyzers
export { FusionAnalysisAPI, FusionAnalyzerPool, FusionTaskRunner, defineAnalyzer, defineTask } from './server/index.js';
export type { AnalysisContext, FusionAnalyzer, FusionTask, TaskContext } from './server/index.js';
export { FusionAnalysisAPIClient } from './client/index.js';
