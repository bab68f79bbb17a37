/** Public surface of fusion-framework/client: listed name by name, internals unlisted. */
export { FusionClient } from './client.js';
export type { FusionRawResponse, FusionRequestOptions } from './client.js';
export type { FusionClientOptions, FusionClientTlsOptions } from './client-options.js';
export { FusionClientError, isFusionClientError } from './errors.js';
export { FusionInfoAPIClient } from './api/info.js';
export type { FusionInfoAPIClientOptions } from './api/info.js';
export { FusionConstantAPIClient } from './api/constant.js';
export type { FusionConstantAPIClientOptions } from './api/constant.js';
export { FusionAuthAPIClient } from './api/auth.js';
export type { FusionAuthAPIClientOptions } from './api/auth.js';
export { FusionCaseAPIClient } from './api/case.js';
export type { CaseCreateInput, CasePatch, FusionCaseAPIClientOptions } from './api/case.js';
export { FusionDownloadAPIClient } from './api/download.js';
export type { DownloadOptions, DownloadResult, FusionDownloadAPIClientOptions } from './api/download.js';
export { createWebhookReceiver } from './webhook-receiver.js';
export type { WebhookReceiver, WebhookReceiverOptions, WebhookReceiverPluginOptions, WebhookHeaders, WebhookEventClass } from './webhook-receiver.js';
export { FusionEventAPIClient } from './api/event.js';
export type { FusionEventAPIClientOptions, SubscribeOptions, EventSubscription, EventClassLike } from './api/event.js';
