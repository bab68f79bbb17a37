/** Public surface of fusion-framework/server: listed name by name, internals unlisted. */
// core
export { FusionServer } from './server.js';
export type { FromConfigOptions, FusionServerOptions, ListenOptions } from './server.js';
export type { CaseLoader, EventNotifier, FusionHost } from './host.js';
export { FusionAPI } from './api.js';
export { registerApiSection, apisFromSections } from './api-registry.js';
export type { ApiSectionFactory } from './api-registry.js';
export { defineService, loadServiceModule, loadServiceConfig } from './service-module.js';
export { createServiceServer } from './service-server.js';
export type { CreateServiceServerOptions } from './service-server.js';
export type { FusionServiceModule, LoadServiceConfigOptions, LoadedService } from './service-module.js';
export { buildRoute, checkGuid } from './route.js';
export type { RouteCase, RouteContext, RouteHandler, RouteSpec } from './route.js';
export { countOf, errorEnvelope, errorEnvelopeSchema, successEnvelope, successEnvelopeSchema, responseSchemas, toWire } from './envelope.js';
export type { ErrorEnvelope, JsonSchema, SuccessEnvelope } from './envelope.js';
export { mapError } from './error-handler.js';
export type { MappedError } from './error-handler.js';
export { DOCS_PATH, OPENAPI_PATH } from './openapi.js';
export { DEFAULT_STORAGE_URL, loadConfig, parseConfig, parseServerConfig, parseStorageConfig, withStorageUrl } from './config.js';
export type { FusionConfig, FusionServerConfig, FusionServiceConfig, FusionStorageConfig, LoadConfigOptions, SectionParser } from './config.js';
export { FUSION_VERSION } from '../helper/version.js';
// storage
export { openStorage, openPgliteStorage, KnexStorage, FUSION_MIGRATIONS, parseStorageUrl, redactStorageUrl } from './storage/index.js';
export type {
  CaseClass,
  CaseFilter,
  KeyPage,
  FusionStorage,
  LockAttempt,
  LockedFunction,
  NewSession,
  OpenStorageOptions,
  SessionPatch,
  StorageKind,
  StorageMigration,
  StoredSession,
} from './storage/index.js';
// auth
export type { AuthorizeContext, FusionAuthorizer } from './auth/authorizer.js';
export { FusionAuthAPI } from './auth/impl.js';
export type { AuthorizeHook, FusionAuthAPIOptions } from './auth/impl.js';
export { parseAuthConfig } from './auth/config.js';
export type { FusionAuthBackendConfig, FusionAuthConfig, FusionAuthCookieConfig, FusionAuthRateLimitConfig } from './auth/config.js';
export { AuthSession, FusionAuthBackend } from './auth/backend/backend.js';
export { BasicAuthBackend } from './auth/backend/basic.js';
export { OidcAuthBackend, oidcAuthBackendFactory } from './auth/backend/oidc.js';
export type { OidcAuthOptions, OidcFlavor, OidcAuthBackendExtras } from './auth/backend/oidc.js';
export type { AuthSessionStore, AuthBackendContext } from './auth/backend/backend.js';
export { hashPassword, verifyPassword } from './auth/backend/password.js';
export { registerAuthBackend } from './auth/backend/registry.js';
export type { AuthBackendFactory } from './auth/backend/registry.js';
// info, constant
export { FusionInfoAPI, parseInfoConfig } from './info/index.js';
export type { FusionInfoAPIOptions, FusionInfoConfig } from './info/index.js';
export { FusionConstantAPI, parseConstantConfig } from './constant/index.js';
export type { ConstantClass, FusionConstantAPIOptions, FusionConstantConfig } from './constant/index.js';
// case
export { FusionCaseAPI, CASE_STEP_NAMES, parseCaseConfig } from './case/index.js';
export type {
  AttachCaseContext,
  CaseEventCategory,
  CaseEventOptions,
  CaseStepHook,
  CaseStepName,
  CreateCaseContext,
  DeleteCaseContext,
  EnumerateCasesContext,
  FusionCaseAPIOptions,
  FusionCaseClass,
  FusionCaseConfig,
  FusionCaseHooks,
  RetrieveCaseContext,
  UpdateCaseContext,
} from './case/index.js';
// download
export { FusionDownloadAPI, parseDownloadConfig } from './download/index.js';
export type { CloudLink, FusionDownloadAPIOptions, FusionDownloadConfig, PrepareCloudOptions } from './download/index.js';
// webhooks (the event API's delivery half)
export { parseWebhookConfig, DEFAULT_WEBHOOK_CONFIG, validateWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from './event/webhook/index.js';
export { WebhookDispatcher, createWebhookDispatcher, AddressPolicy, DELIVERY_TABLE, ENDPOINT_TABLE } from './event/webhook/index.js';
export type { FusionWebhookConfig, WebhookDispatcherOptions, WebhookHost, DeliveryStatus } from './event/webhook/index.js';
// events (storage-backed bus, SSE with resume and presence)
export { FusionEventAPI, EVENT_DEFAULTS, parseEventConfig, readEventConfig, PRUNE_LOCK_KEY, SSE_HEADERS, eventChannelName, listenToStorage, BUS_BATCH_CHANNEL } from './event/index.js';
export type { FusionEventAPIOptions, NotifyOptions, EventClass, FusionEventConfig, EventSink, StoredEvent, PruneResult, NotificationChannelOptions, BusBatchTiming } from './event/index.js';
// connection registry (live connections of every instance, delivery across instances)
export { ConnectionRegistry, connectionChannelName, CONNECTION_TABLE, CONNECTION_MESSAGE_TABLE, CONNECTION_MIGRATION } from './connection/index.js';
export type { ConnectionKind, ConnectionRecord, ConnectionRegistryOptions, ConnectionSelector, ConnectionDeliveryHandler, InstanceMessageHandler, NewConnection, DeliverOptions } from './connection/index.js';
// TCP gateway (framed TCP/TLS listeners, classification by first message, hooks)
export { FusionTcpAPI, FusionTcpGateway, FusionTcpConnection, TCP_LISTENER_DEFAULTS, readTcpConfig, encodeChannelMessageAsJson } from './tcp/index.js';
export type {
  FusionTcpAPIOptions,
  FusionTcpConfig,
  FusionTcpGatewayOptions,
  NamedCustomFraming,
  TcpChannelEncoder,
  TcpChannelHub,
  TcpChannelMessage,
  TcpClassifier,
  TcpConnectHandler,
  TcpConnectionRegistry,
  TcpDisconnectHandler,
  TcpJoinResult,
  TcpListener,
  TcpListenerConfig,
  TcpListenerOptions,
  TcpMessageHandler,
  TcpPeerCertificate,
  TcpTarget,
} from './tcp/index.js';
export { acquireConnectionRegistry, releaseConnectionRegistry } from './connection/shared.js';
export type { SharedRegistryOptions } from './connection/shared.js';
// cloud (files with role-based access control, local or S3)
export { FusionCloudAPI, driverOf, readCloudConfig, parseCloudConfig, DEFAULT_CLOUD_ROLES, CLOUD_PERMISSIONS, isCloudPermission, resolvePermissions, LocalCloudDriver, S3CloudDriver } from './cloud/index.js';
export type { FusionCloudAPIOptions, FusionCloudConfig, CloudS3Config, CloudPermission, CloudCaller, EffectivePermissions, RbacSettings, CloudAssignment, CloudEntry, CloudPrincipal, CloudDriver, OpenedContent, StagedFile, S3CloudDriverOptions } from './cloud/index.js';
// tasks (startup, shutdown, interval, cron, singletons) and pg-boss over our storage
export { FusionTaskRunner, defineTask, ManualClock, systemClock, parseCron, nextCronTime, acquireBoss, bossDatabase, bossSchema, ensureQueue, taskQueue, SyncStorage, syncCase, synchronizeCases, synchronizerTask, readSynchronizerConfig, SYNC_SECTIONS } from './task/index.js';
export type { FusionTask, TaskContext, TaskRetry, TaskTrigger, TaskRunnerOptions, TaskRunnerEvents, TaskClock, CronSchedule, AcquireBossOptions, BossLease, SyncOutcome, SynchronizerConfig } from './task/index.js';
// analyzers (analyses queued on pg-boss, worker pools, analysis routes)
export { FusionAnalysisAPI, FusionAnalyzerPool, defineAnalyzer, readAnalyzersConfig, ANALYZER_DEFAULTS, PRIORITY_RANK, analyzerQueue } from './analyzer/index.js';
export type { AnalysisContext, FusionAnalyzer, AnalyzerPoolOptions, AnalyzerPoolEvents, AnalyzerSettings, FusionAnalyzersConfig, QueueAnalysisBody } from './analyzer/index.js';
// metrics (per-server Prometheus registry, /api/metrics) and tracing switches
export { FusionMetrics, FusionMetricsAPI, readMetricsConfig, METRICS_DEFAULTS, REQUEST_DURATION_SERIES } from './metrics/index.js';
export type { FusionMetricsConfig, SeriesOptions, GaugeOptions, HistogramOptions } from './metrics/index.js';
export { readTelemetryConfig, TELEMETRY_DEFAULTS } from './telemetry/index.js';
export type { FusionTelemetryConfig } from './telemetry/index.js';
// rpc (JSON-RPC 2.0 over WebSocket: methods, streams, reverse requests, channels with replay)
export { FusionRpcAPI, RPC_DEFAULTS, readRpcConfig, defineRpc, RpcError, RPC_CODES, RPC_PROTOCOL, CLOSE_CODES, RPC_MIGRATION } from './rpc/index.js';
export type { FusionRpcAPIOptions, ReverseRequestOptions, ReverseAnswer, ReverseOffline, RpcChannelOptions, FusionRpcConfig, RpcCall, RpcConnectionInfo, RpcCodecName, RpcDefinitions, RpcHandler, RpcMethodDefinition, RpcMethodOptions, RpcParamsClass, RpcParamsOf, RpcResultOf, RpcItemOf, RpcHooks, RpcFrame, RpcErrorObject } from './rpc/index.js';
// fastify types a service's setup() and route handlers meet (no direct fastify import needed)
export type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
