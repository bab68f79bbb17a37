/**
 * FusionTcpAPI: mounts a FusionTcpGateway on a FusionServer. Its listeners start once storage is
 * open (after every API's setup, so handlers are registered first) and stop on shutdown.
 * A service reaches the gateway with `host.findApi(FusionTcpAPI)!.gateway` in its own setup.
 * With the RPC API mounted too, `gateway.join` puts TCP connections in RPC's channels.
 */
import type { FastifyInstance } from 'fastify';
import { FusionAPI } from '../api.js';
import { acquireConnectionRegistry, releaseConnectionRegistry } from '../connection/shared.js';
import type { FusionHost } from '../host.js';
import { readTcpConfig } from './config.js';
import type { FusionTcpConfig, TcpListenerConfig } from './config.js';
import { FusionTcpGateway } from './gateway.js';
import type { TcpListener } from './listener.js';
import type { TcpListenerOptions } from './listener-options.js';

/** Options of FusionTcpAPI. */
export interface FusionTcpAPIOptions {
  /** The parsed section; default: `config.raw.tcp` of the server, read at setup. */
  config?: FusionTcpConfig;
  /** The gateway to mount (default: a new one). */
  gateway?: FusionTcpGateway;
  /** List connections in the server's shared connection registry, so `gateway.deliver` reaches every instance (default true). */
  registry?: boolean;
}

/** The TCP gateway as a FusionServer API (section `tcp`). */
export class FusionTcpAPI extends FusionAPI {
  readonly name = 'tcp';
  /** The gateway: register handlers and hooks on it before the server starts. */
  readonly gateway: FusionTcpGateway;
  #config: FusionTcpConfig | undefined;
  readonly #useRegistry: boolean;
  #host: FusionHost | null = null;

  constructor(options: FusionTcpAPIOptions = {}) {
    super();
    this.gateway = options.gateway ?? new FusionTcpGateway();
    this.#config = options.config;
    this.#useRegistry = options.registry ?? true;
  }

  /** The listeners started (empty before start). */
  get listeners(): readonly TcpListener[] {
    return this.gateway.listeners;
  }

  setup(_app: FastifyInstance, server: FusionHost): void {
    this.#config ??= readTcpConfig(server.config.raw.tcp ?? {}, { baseDir: server.config.baseDir });
    this.gateway.setLogger(server.logger.child({ module: 'server.tcp' }));
  }

  override async start(server?: FusionHost): Promise<void> {
    if (server && this.#useRegistry && server.hasStorage) {
      // The server's one registry (the RPC API acquires the same one).
      this.gateway.attachRegistry(await acquireConnectionRegistry(server));
      this.#host = server;
      // Channels are the RPC API's (gateway.join); its module is loaded only by a server with storage.
      const { FusionRpcAPI } = await import('../rpc/impl.js');
      const rpc = server.findApi(FusionRpcAPI);
      if (rpc !== undefined) this.gateway.attachChannels(() => rpc.channelHub);
    }
    for (const listener of this.#config?.listeners ?? []) await this.gateway.listen(this.#resolveFraming(listener));
  }

  override async close(): Promise<void> {
    await this.gateway.close();
    const host = this.#host;
    this.#host = null;
    this.gateway.attachRegistry(null);
    this.gateway.attachChannels(null);
    if (host) await releaseConnectionRegistry(host);
  }

  #resolveFraming(listener: TcpListenerConfig): TcpListenerOptions {
    if (listener.framing.type !== 'custom') return { ...listener, framing: listener.framing };
    const framing = this.gateway.framing(listener.framing.splitter);
    if (framing === undefined) throw new TypeError(`tcp listener ${listener.name}: no framing defined as ${JSON.stringify(listener.framing.splitter)} (gateway.defineFraming)`);
    return { ...listener, framing };
  }
}
