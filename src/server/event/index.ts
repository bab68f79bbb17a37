/** The event API: storage-backed bus, SSE with resume and presence, and (webhook/) deliveries. */
export { FusionEventAPI } from './impl.js';
export type { EventClass, FusionEventAPIOptions, NotifyOptions } from './impl.js';
export { EVENT_DEFAULTS, parseEventConfig, readEventConfig } from './config.js';
export type { FusionEventConfig, ReadEventConfigOptions } from './config.js';
export type { EventSink, StoredEvent } from './event-sink.js';
export { BUS_BATCH_CHANNEL, EventBus, eventChannelName } from './event-bus.js';
export type { BusBatchTiming, BusEvent, BusListener, EventBusOptions } from './event-bus.js';
export { EVENT_TABLE, HORIZON_TABLE } from './event-log.js';
export { PRESENCE_TABLE } from './presence.js';
export { PRUNE_LOCK_KEY } from './prune-task.js';
export type { PruneResult } from './prune-task.js';
export { SSE_HEADERS } from './sse-stream.js';
export { parseLastEventId } from './case-stream.js';
export { listenToStorage } from './notification-channel.js';
export type { NotificationChannel, NotificationChannelOptions, NotificationHandlers } from './notification-channel.js';
