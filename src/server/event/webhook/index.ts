/** The webhook half of the event API: config, URL validation, the dispatcher (an EventSink). */
export { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig } from './config.js';
export type { FusionWebhookConfig } from './config.js';
export { MAX_WEBHOOK_URL_LENGTH, validateWebhookUrl } from './webhook-url.js';
export { WebhookDispatcher, createWebhookDispatcher } from './dispatcher.js';
export type { WebhookDispatcherOptions, WebhookHost } from './dispatcher.js';
export { AddressPolicy } from './address-policy.js';
export { DELIVERY_TABLE, ENDPOINT_TABLE } from './delivery-rows.js';
export type { DeliveryStatus } from './delivery-rows.js';
