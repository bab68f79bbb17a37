/**
 * The gateway's side of the connection registry (src/server/connection/registry.ts): it lists
 * each connection (kind `tcp`), keeps its row's client type and identity current, removes it on
 * close, and routes frames to connections of any instance. Writes for one connection run in
 * order (each waits for the one before), so an update never precedes its insert.
 */
import type { TcpFrame } from '../../helper/framing.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { ConnectionRegistry, ConnectionSelector } from '../connection/registry.js';
import type { FusionTcpConnection } from './connection.js';

/** Where `gateway.send` / `gateway.deliver` go: one connection, every connection of a client type, or of an identity. */
export type TcpTarget = { connectionId: string } | { clientType: string } | { username: string };

/**
 * The part of the connection registry the gateway uses: it lists its connections there (kind
 * `tcp`) and receives frames other instances deliver.
 */
export type TcpConnectionRegistry = Pick<ConnectionRegistry, 'add' | 'update' | 'remove' | 'handle' | 'deliver'>;

/** A frame as JSON, to cross instances through the registry. */
type FramePayload = { text: string } | { base64: string };

function toPayload(frame: TcpFrame): FramePayload {
  return typeof frame === 'string' ? { text: frame } : { base64: frame.toString('base64') };
}

function fromPayload(payload: unknown): TcpFrame | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { text, base64 } = payload as { text?: unknown; base64?: unknown };
  if (typeof text === 'string') return text;
  return typeof base64 === 'string' ? Buffer.from(base64, 'base64') : null;
}

/** True when `connection` is one `target` names. */
export function targetMatches(connection: FusionTcpConnection, target: TcpTarget): boolean {
  if ('connectionId' in target) return connection.id === target.connectionId;
  if ('clientType' in target) return connection.clientType === target.clientType;
  return connection.identity === target.username;
}

function selectorOf(target: TcpTarget): ConnectionSelector {
  if ('connectionId' in target) return { id: target.connectionId, kind: 'tcp' };
  if ('clientType' in target) return { clientType: target.clientType, kind: 'tcp' };
  return { username: target.username, kind: 'tcp' };
}

/** The gateway's registry rows and cross-instance delivery (see the file comment). */
export class TcpRegistryLink {
  readonly #connections: ReadonlyMap<string, FusionTcpConnection>;
  readonly #logger: () => FusionLogger;
  #registry: TcpConnectionRegistry | null = null;
  #removeDeliveryHandler: (() => void) | null = null;
  /** Per connection, the registry writes so far (each waits for the one before). */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(connections: ReadonlyMap<string, FusionTcpConnection>, logger: () => FusionLogger) {
    this.#connections = connections;
    this.#logger = logger;
  }

  /** True when a registry is attached. */
  get attached(): boolean {
    return this.#registry !== null;
  }

  /** Attaches `registry` (or detaches with null) and takes the frames other instances deliver here. */
  attach(registry: TcpConnectionRegistry | null): void {
    this.#removeDeliveryHandler?.();
    this.#removeDeliveryHandler = null;
    this.#registry = registry;
    if (registry === null) return;
    this.#removeDeliveryHandler = registry.handle('tcp', (connectionId, payload) => {
      const frame = fromPayload(payload);
      const connection = this.#connections.get(connectionId);
      if (frame === null || connection === undefined) return;
      try {
        connection.send(frame);
      } catch (error) {
        this.#logger().warn({ connection: connectionId, err: error }, 'tcp frame from another instance not sent');
      }
    });
  }

  /** Lists a new connection. */
  added(connection: FusionTcpConnection): void {
    void this.#write(connection, async (registry) => {
      await registry.add({ id: connection.id, kind: 'tcp', clientType: connection.clientType, username: connection.identity, remoteAddress: connection.remoteAddress });
    });
  }

  /** Records the client type the classifier gave. */
  classified(connection: FusionTcpConnection): void {
    void this.#write(connection, (registry) => registry.update(connection.id, { clientType: connection.clientType }));
  }

  /** Records a new identity. */
  identified(connection: FusionTcpConnection): void {
    void this.#write(connection, (registry) => registry.update(connection.id, { username: connection.identity }));
  }

  /** Removes a closed connection's row (its channel member rows go with it); resolves once done, or undefined without a registry. */
  removed(connection: FusionTcpConnection): Promise<void> | undefined {
    const removed = this.#write(connection, (registry) => registry.remove(connection.id));
    this.#writes.delete(connection.id);
    return removed;
  }

  /** Resolves once the registry writes queued so far for `connection` are done (its row exists after an add). */
  async settled(connection: FusionTcpConnection): Promise<void> {
    await this.#writes.get(connection.id);
  }

  /**
   * Sends `frame` to the target's connections on whichever instance holds them (the payload is
   * stored, then signalled); resolves with the ids it was routed to. Without a registry, on
   * this instance only.
   */
  async deliver(target: TcpTarget, frame: TcpFrame): Promise<string[]> {
    if (this.#registry === null) {
      const local = [...this.#connections.values()].filter((connection) => targetMatches(connection, target));
      return local.filter((connection) => connection.send(frame)).map((connection) => connection.id);
    }
    return this.#registry.deliver(selectorOf(target), toPayload(frame));
  }

  /** Queues a registry write for `connection` after its earlier ones; failures are logged (the connection works on locally). */
  #write(connection: FusionTcpConnection, write: (registry: TcpConnectionRegistry) => Promise<void>): Promise<void> | undefined {
    const registry = this.#registry;
    if (registry === null) return undefined;
    const previous = this.#writes.get(connection.id) ?? Promise.resolve();
    const next = previous.then(() => write(registry)).catch((error: unknown) => {
      this.#logger().warn({ connection: connection.id, err: error }, 'tcp connection registry write failed');
    });
    this.#writes.set(connection.id, next);
    return next;
  }
}
