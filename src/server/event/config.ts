/**
 * The `event` section. Its presence mounts the event API (`FusionServer.fromConfig`). This
 * file reads the bus and SSE keys; the webhook keys (`webhook`, `api_key`, `timeout`,
 * `secret`...) are read from the same section by `parseWebhookConfig` (webhook/config.ts).
 */
import { ConfigReader } from '../../helper/config.js';
import { parseWebhookConfig } from './webhook/config.js';
import type { FusionWebhookConfig } from './webhook/config.js';

/** The parsed `event` section (bus, SSE, presence, retention). */
export interface FusionEventConfig {
  /** `source` of the events this service emits; default: `info.api`, else 'fusion'. */
  source: string | undefined;
  /** `retention`: seconds an event stays in storage (and can be replayed with Last-Event-ID). */
  retention: number;
  /** `prune_interval`: seconds between two prune runs (one instance at a time prunes). */
  pruneInterval: number;
  /** `keepalive`: seconds between two `: ping` comments on an idle SSE stream. */
  keepalive: number;
  /** `max_buffered_events`: events a slow SSE consumer may lag behind before it is disconnected (it can resume). */
  maxBufferedEvents: number;
  /** `presence_ttl`: seconds a subscriber stays listed when its instance stops refreshing it (crash). */
  presenceTtl: number;
  /** `presence_grace`: seconds the last stream of a (case, user) may be gone before `unsubscribe` (a new stream meanwhile cancels it); 0: at once. */
  presenceGrace: number;
  /** `max_streams_per_identity`: SSE streams one identity may hold open at once on one instance (0: no cap). */
  maxStreamsPerIdentity: number;
  /** The webhook keys (`webhook`, `api_key`, `timeout`, `secret`...), parsed by webhook/config.ts. */
  webhook: FusionWebhookConfig;
}

/** Defaults: what an empty `event:` section gives. */
export const EVENT_DEFAULTS: Readonly<Omit<FusionEventConfig, 'source' | 'webhook'>> = Object.freeze({
  retention: 7 * 24 * 3600,
  pruneInterval: 300,
  keepalive: 15,
  maxBufferedEvents: 1000,
  presenceTtl: 60,
  presenceGrace: 3,
  maxStreamsPerIdentity: 16,
});

function positiveSeconds(reader: ConfigReader, key: string, fallback: number): number {
  const value = reader.number(key, { default: fallback, min: 0 });
  if (value <= 0) throw reader.error(key, `expected a number of seconds > 0, got ${value}`);
  return value;
}

/** Parses the bus/SSE keys of the `event` section; throws ConfigError naming the bad key. */
export function parseEventConfig(reader: ConfigReader): FusionEventConfig {
  return {
    source: reader.optionalString('source', { minLength: 1 }),
    retention: positiveSeconds(reader, 'retention', EVENT_DEFAULTS.retention),
    pruneInterval: positiveSeconds(reader, 'prune_interval', EVENT_DEFAULTS.pruneInterval),
    keepalive: positiveSeconds(reader, 'keepalive', EVENT_DEFAULTS.keepalive),
    maxBufferedEvents: reader.integer('max_buffered_events', { default: EVENT_DEFAULTS.maxBufferedEvents, min: 1 }),
    presenceTtl: positiveSeconds(reader, 'presence_ttl', EVENT_DEFAULTS.presenceTtl),
    presenceGrace: reader.number('presence_grace', { default: EVENT_DEFAULTS.presenceGrace, min: 0, max: 3600 }),
    maxStreamsPerIdentity: reader.integer('max_streams_per_identity', { default: EVENT_DEFAULTS.maxStreamsPerIdentity, min: 0 }),
    webhook: parseWebhookConfig(reader),
  };
}

/** Options of readEventConfig. */
export interface ReadEventConfigOptions {
  /** Environment for `{ env: NAME }` values (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. */
  baseDir?: string;
}

/**
 * Parses a raw `event` section (as `FusionConfig.raw.event` holds it), then reports keys
 * nothing read: ConfigError `event.<key>: unknown key, did you mean ...`.
 */
export function readEventConfig(raw: unknown, options: ReadEventConfigOptions = {}): FusionEventConfig {
  const reader = new ConfigReader(raw, {
    key: 'event',
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
  });
  const config = parseEventConfig(reader);
  reader.assertNoUnknownKeys();
  return config;
}
