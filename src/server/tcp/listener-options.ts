/** Options of one TCP gateway listener (from code, or parsed from `tcp.listeners[]`), with their defaults. */
import type { TlsOptions } from 'node:tls';
import { checkFraming } from '../../helper/framing.js';
import type { FramingOptions } from '../../helper/framing.js';

/** One listening socket of a FusionTcpGateway. */
export interface TcpListenerOptions {
  /** Name in logs and on connections (default `tcp-<port>`). */
  name?: string;
  /** Port to listen on; 0 picks a free one (read it back from `listener.port`). */
  port: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** TLS (`node:tls` server options: key, cert, ca, requestCert...); absent: plain TCP. */
  tls?: TlsOptions;
  /** How the byte stream is cut into frames. */
  framing: FramingOptions;
  /** Largest frame accepted, in bytes; a larger one closes the connection (default 65,536). */
  maxFrameBytes?: number;
  /** Seconds without any byte received before the connection is closed; 0 disables (default 300). */
  idleTimeout?: number;
  /** Connections open at once on this listener; more are dropped at accept (default 10,000). */
  maxConnections?: number;
  /** Bytes waiting to be written to one slow reader before it is closed (default 1 MiB). */
  maxBufferedBytes?: number;
}

/** A listener's options with every default filled in. */
export type ResolvedTcpListenerOptions = Required<Omit<TcpListenerOptions, 'tls'>> & Pick<TcpListenerOptions, 'tls'>;

/** Defaults of the optional limits. */
export const TCP_LISTENER_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  maxFrameBytes: 65_536,
  idleTimeout: 300,
  maxConnections: 10_000,
  maxBufferedBytes: 1_048_576,
});

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be an integer > 0, got ${value}`);
  return value;
}

/** Checks `options` (a TypeError names the bad one) and fills in the defaults. */
export function resolveListenerOptions(options: TcpListenerOptions): ResolvedTcpListenerOptions {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) throw new TypeError(`port must be an integer 0..65535, got ${options.port}`);
  checkFraming(options.framing);
  const idleTimeout = options.idleTimeout ?? TCP_LISTENER_DEFAULTS.idleTimeout;
  if (!Number.isFinite(idleTimeout) || idleTimeout < 0) throw new TypeError(`idleTimeout must be a number of seconds >= 0, got ${idleTimeout}`);
  return {
    name: options.name ?? `tcp-${options.port}`,
    port: options.port,
    host: options.host ?? TCP_LISTENER_DEFAULTS.host,
    tls: options.tls,
    framing: options.framing,
    maxFrameBytes: positiveInteger('maxFrameBytes', options.maxFrameBytes ?? TCP_LISTENER_DEFAULTS.maxFrameBytes),
    idleTimeout,
    maxConnections: positiveInteger('maxConnections', options.maxConnections ?? TCP_LISTENER_DEFAULTS.maxConnections),
    maxBufferedBytes: positiveInteger('maxBufferedBytes', options.maxBufferedBytes ?? TCP_LISTENER_DEFAULTS.maxBufferedBytes),
  };
}
