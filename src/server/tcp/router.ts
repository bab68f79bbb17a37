/**
 * The gateway's frame pipeline, per connection and in order: after-receive hooks, then on the
 * first frame they accept the classifier (with `connection.isFirstMessage` true), then the
 * handler of the connection's client type, or the default one.
 */
import { isThenable, runAfterReceive } from '../../helper/frame-hooks.js';
import type { AfterReceiveHook } from '../../helper/frame-hooks.js';
import type { TcpFrame } from '../../helper/framing.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionTcpConnection } from './connection.js';

/** Handles one frame of a connection. */
export type TcpMessageHandler = (frame: TcpFrame, connection: FusionTcpConnection) => unknown;
/** Names the client type of a connection from its first frame; null/undefined leaves it unclassified (default handler). */
export type TcpClassifier = (firstMessage: TcpFrame, connection: FusionTcpConnection) => string | null | undefined | Promise<string | null | undefined>;

/** Hooks, classifier and handlers, and the routing of each received frame through them. */
export class TcpRouter {
  readonly afterReceive: AfterReceiveHook<FusionTcpConnection>[] = [];
  readonly typeHandlers = new Map<string, TcpMessageHandler>();
  defaultHandler: TcpMessageHandler | null = null;
  classifier: TcpClassifier | null = null;
  readonly #logger: () => FusionLogger;
  readonly #classified: (connection: FusionTcpConnection) => void;

  /** `classified` runs when the classifier gave a connection its type. */
  constructor(logger: () => FusionLogger, classified: (connection: FusionTcpConnection) => void) {
    this.#logger = logger;
    this.#classified = classified;
  }

  /** Runs one received frame through the pipeline; a promise when a step is async. */
  received(connection: FusionTcpConnection, frame: TcpFrame): unknown {
    const accepted = runAfterReceive(this.afterReceive, frame, connection);
    return isThenable(accepted) ? accepted.then((value) => this.#route(connection, value)) : this.#route(connection, accepted);
  }

  #route(connection: FusionTcpConnection, frame: TcpFrame | null): unknown {
    if (frame === null) return undefined;
    if (connection.messagesReceived++ > 0) return this.#handle(connection, frame);
    connection.isFirstMessage = true;
    let handled: unknown;
    try {
      const classified = this.classifier ? this.classifier(frame, connection) : null;
      handled = isThenable(classified)
        ? classified.then((type) => this.#handleFirst(connection, frame, type))
        : this.#handleFirst(connection, frame, classified);
    } catch (error) {
      connection.isFirstMessage = false;
      throw error;
    }
    if (isThenable(handled)) {
      return Promise.resolve(handled).finally(() => {
        connection.isFirstMessage = false;
      });
    }
    connection.isFirstMessage = false;
    return handled;
  }

  #handleFirst(connection: FusionTcpConnection, frame: TcpFrame, type: string | null | undefined): unknown {
    if (typeof type === 'string' && type !== '') {
      connection.clientType = type;
      this.#classified(connection);
    }
    this.#logger().debug({ connection: connection.id, client_type: connection.clientType }, 'tcp connection classified');
    return this.#handle(connection, frame);
  }

  #handle(connection: FusionTcpConnection, frame: TcpFrame): unknown {
    const handler = (connection.clientType !== null ? this.typeHandlers.get(connection.clientType) : undefined) ?? this.defaultHandler;
    if (handler === null) {
      this.#logger().debug({ connection: connection.id, client_type: connection.clientType }, 'tcp frame dropped: no handler');
      return undefined;
    }
    return handler(frame, connection);
  }
}
