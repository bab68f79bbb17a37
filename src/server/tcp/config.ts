/**
 * The `tcp` section: `tcp.listeners[]`, each `{name, port, host, tls, framing, delimiter,
 * prefix_bytes, encoding, splitter, max_frame_bytes, idle_timeout, max_connections,
 * max_buffered_bytes}`. Read from `config.raw.tcp`; a bad key fails at start naming it.
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { ConfigReader } from '../../helper/config.js';
import type { FrameEncoding, LengthPrefixedFraming, LineFraming } from '../../helper/framing.js';
import { TCP_LISTENER_DEFAULTS } from './listener-options.js';
import type { TcpListenerOptions } from './listener-options.js';

/** A custom framing named in the config, defined in code with `gateway.defineFraming(name, framing)`. */
export interface NamedCustomFraming {
  type: 'custom';
  splitter: string;
}

/** One parsed `tcp.listeners[]` item: listener options whose custom framing is still a name. */
export type TcpListenerConfig = Omit<TcpListenerOptions, 'framing'> & { framing: LineFraming | LengthPrefixedFraming | NamedCustomFraming };

/** The parsed `tcp` section. */
export interface FusionTcpConfig {
  listeners: TcpListenerConfig[];
}

/** Options of readTcpConfig. */
export interface ReadTcpConfigOptions {
  /** Environment for `{ env: NAME }` values (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths (TLS files) resolve against. */
  baseDir?: string;
}

function readPem(reader: ConfigReader, key: string): string {
  const path = reader.filePath(key);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw reader.error(key, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function parseTls(reader: ConfigReader): TlsOptions | undefined {
  const tls = reader.optionalSection('tls');
  if (tls === undefined) return undefined;
  const requestCert = tls.boolean('request_cert', { default: false });
  return {
    cert: readPem(tls, 'cert'),
    key: readPem(tls, 'key'),
    ...(tls.has('ca') ? { ca: readPem(tls, 'ca') } : {}),
    requestCert,
    rejectUnauthorized: requestCert && tls.boolean('reject_unauthorized', { default: true }),
  };
}

function parseFraming(reader: ConfigReader): TcpListenerConfig['framing'] {
  const type = reader.oneOf('framing', ['line', 'length-prefixed', 'custom'] as const);
  const encoding = reader.oneOf<FrameEncoding>('encoding', ['utf8', 'binary'], { default: 'utf8' });
  if (type === 'line') return { type, delimiter: reader.string('delimiter', { default: '\n', minLength: 1 }), encoding };
  if (type === 'length-prefixed') {
    const prefixBytes = reader.integer('prefix_bytes', { default: 4, min: 2, max: 4 });
    if (prefixBytes !== 2 && prefixBytes !== 4) throw reader.error('prefix_bytes', `expected 2 or 4, got ${prefixBytes}`);
    return { type, prefixBytes, encoding };
  }
  return { type, splitter: reader.string('splitter', { minLength: 1 }) };
}

function parseListener(reader: ConfigReader, index: number): TcpListenerConfig {
  const port = reader.integer('port', { min: 0, max: 65_535 });
  const tls = parseTls(reader);
  return {
    name: reader.string('name', { default: `tcp-${index}`, minLength: 1 }),
    port,
    host: reader.string('host', { default: TCP_LISTENER_DEFAULTS.host, minLength: 1 }),
    ...(tls ? { tls } : {}),
    framing: parseFraming(reader),
    maxFrameBytes: reader.integer('max_frame_bytes', { default: TCP_LISTENER_DEFAULTS.maxFrameBytes, min: 1 }),
    idleTimeout: reader.number('idle_timeout', { default: TCP_LISTENER_DEFAULTS.idleTimeout, min: 0 }),
    maxConnections: reader.integer('max_connections', { default: TCP_LISTENER_DEFAULTS.maxConnections, min: 1 }),
    maxBufferedBytes: reader.integer('max_buffered_bytes', { default: TCP_LISTENER_DEFAULTS.maxBufferedBytes, min: 1 }),
  };
}

/** Parses a raw `tcp` section (as `FusionConfig.raw.tcp` holds it); ConfigError names the bad or unknown key. */
export function readTcpConfig(raw: unknown, options: ReadTcpConfigOptions = {}): FusionTcpConfig {
  const reader = new ConfigReader(raw, {
    key: 'tcp',
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
  });
  const listeners = reader.list('listeners').map((item, index) => parseListener(item, index));
  const names = new Set<string>();
  listeners.forEach((listener, index) => {
    if (names.has(listener.name!)) throw reader.error(`listeners[${index}].name`, `duplicate listener name ${JSON.stringify(listener.name)}`);
    names.add(listener.name!);
  });
  reader.assertNoUnknownKeys();
  return { listeners };
}
