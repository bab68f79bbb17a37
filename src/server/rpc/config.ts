/** The `rpc` section (its presence mounts FusionRpcAPI): limits, timeouts, origins, replay retention. */
import { ConfigReader } from '../../helper/config.js';

/** The parsed `rpc` section. */
export interface FusionRpcConfig {
  /** `max_frame_bytes`: a larger frame closes the connection with 1009. */
  maxFrameBytes: number;
  /** `max_in_flight`: calls one connection may have running at once (more get -32029). */
  maxInFlight: number;
  /** `rate`: calls per second one connection may make (a bucket of that size; more get -32029). */
  rate: number;
  /** `call_timeout`: seconds a method (or a reverse request) may run before -32008. */
  callTimeout: number;
  /** `require_hello`: the first frame must be `rpc.hello`. */
  requireHello: boolean;
  /** `allowed_origins`: origins, besides the service's own, whose cookie upgrades are accepted. */
  allowedOrigins: string[];
  /** `heartbeat_interval`: seconds between pings; a peer that missed one pong is closed. */
  heartbeatInterval: number;
  /** `retention`: seconds channel messages stay replayable with `since`. */
  retention: number;
  /** `max_buffered_bytes`: a client that does not read past this many queued bytes is closed with 1013. */
  maxBufferedBytes: number;
  /** `lease`: seconds a connection row of a crashed instance survives (the registry's lease). */
  lease: number;
}

/** Defaults: what an empty `rpc:` section gives. */
export const RPC_DEFAULTS: Readonly<FusionRpcConfig> = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxInFlight: 64,
  rate: 200,
  callTimeout: 30,
  requireHello: false,
  allowedOrigins: [],
  heartbeatInterval: 30,
  retention: 3600,
  maxBufferedBytes: 8 * 1024 * 1024,
  lease: 30,
});

function positive(reader: ConfigReader, key: string, fallback: number): number {
  const value = reader.number(key, { default: fallback, min: 0 });
  if (value <= 0) throw reader.error(key, `expected a number > 0, got ${value}`);
  return value;
}

/**
 * Parses a raw `rpc` section (as `config.raw.rpc` holds it); throws ConfigError naming the
 * bad or unknown key.
 */
export function readRpcConfig(raw: unknown, options: { baseDir?: string; env?: Readonly<Record<string, string | undefined>> } = {}): FusionRpcConfig {
  const reader = new ConfigReader(raw ?? {}, { key: 'rpc', ...(options.baseDir ? { baseDir: options.baseDir } : {}), ...(options.env ? { env: options.env } : {}) });
  const config: FusionRpcConfig = {
    maxFrameBytes: reader.integer('max_frame_bytes', { default: RPC_DEFAULTS.maxFrameBytes, min: 64 }),
    maxInFlight: reader.integer('max_in_flight', { default: RPC_DEFAULTS.maxInFlight, min: 1 }),
    rate: positive(reader, 'rate', RPC_DEFAULTS.rate),
    callTimeout: positive(reader, 'call_timeout', RPC_DEFAULTS.callTimeout),
    requireHello: reader.boolean('require_hello', { default: RPC_DEFAULTS.requireHello }),
    allowedOrigins: reader.stringList('allowed_origins', { default: [] }),
    heartbeatInterval: positive(reader, 'heartbeat_interval', RPC_DEFAULTS.heartbeatInterval),
    retention: positive(reader, 'retention', RPC_DEFAULTS.retention),
    maxBufferedBytes: reader.integer('max_buffered_bytes', { default: RPC_DEFAULTS.maxBufferedBytes, min: 1024 }),
    lease: positive(reader, 'lease', RPC_DEFAULTS.lease),
  };
  reader.assertNoUnknownKeys();
  return config;
}
