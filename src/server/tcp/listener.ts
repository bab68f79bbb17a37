/** Starts one gateway listener: a `node:net` or `node:tls` server bound per its options, with its refusals logged. */
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { FusionLogger } from '../../helper/logging.js';
import type { ResolvedTcpListenerOptions } from './listener-options.js';

/** A started listener: its options and the address it is bound to. */
export interface TcpListener {
  readonly options: ResolvedTcpListenerOptions;
  /** The bound port (the real one when the options said 0). */
  readonly port: number;
  readonly host: string;
}

/** A listener and its server. */
export interface RunningListener extends TcpListener {
  readonly server: Server;
}

/** Binds a server for `options` whose sockets go to `accept`; resolves once it listens. */
export async function startListener(options: ResolvedTcpListenerOptions, accept: (socket: Socket) => void, logger: FusionLogger): Promise<RunningListener> {
  const server = options.tls
    ? createTlsServer({ ...options.tls, ...(options.idleTimeout > 0 ? { handshakeTimeout: options.idleTimeout * 1000 } : {}) }, accept)
    : createNetServer(accept);
  server.maxConnections = options.maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    logger.warn({ listener: options.name, remote: data?.remoteAddress, max_connections: options.maxConnections }, 'tcp connection refused: max_connections reached');
  });
  server.on('tlsClientError', (error: Error, socket: Socket) => {
    logger.info({ listener: options.name, remote: socket.remoteAddress, reason: error.message }, 'tls handshake failed');
  });
  server.listen(options.port, options.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  const address = server.address() as AddressInfo;
  logger.info({ listener: options.name, host: address.address, port: address.port, tls: Boolean(options.tls) }, 'tcp listener started');
  return { options, port: address.port, host: address.address, server };
}

/** Stops accepting; resolves once the server is closed (its open sockets are the gateway's to close). */
export function stopListener(listener: RunningListener): Promise<void> {
  return new Promise((resolve) => listener.server.close(() => resolve()));
}
