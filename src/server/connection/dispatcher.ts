/** Handing a delivered payload to its handler on this instance: per connection kind, or per topic for instance messages. */
import type { FusionLogger } from '../../helper/logging.js';
import { KINDS } from './records.js';
import type { ConnectionKind, LocalConnection } from './records.js';

/** Receives, on the owning instance, a payload delivered to one of its connections. */
export type ConnectionDeliveryHandler = (connectionId: string, payload: unknown) => void;

/** Receives a payload sent to this instance with `sendToInstance`. */
export type InstanceMessageHandler = (payload: unknown) => void;

/** A payload for this instance (a message row, or one delivered in memory with seq '0'). */
export interface MessageRow {
  seq: string;
  /** Null: an instance message for the handler of `topic`. */
  connection_id: string | null;
  topic: string;
  /** JSON text. */
  payload: string;
}

/** The delivery handlers of one instance. */
export class DeliveryDispatcher {
  readonly #logger: FusionLogger;
  readonly #local: ReadonlyMap<string, LocalConnection>;
  readonly #handlers = new Map<ConnectionKind, ConnectionDeliveryHandler>();
  readonly #instanceHandlers = new Map<string, InstanceMessageHandler>();

  /** `local` is the registry's map of this instance's connections (read at each dispatch). */
  constructor(logger: FusionLogger, local: ReadonlyMap<string, LocalConnection>) {
    this.#logger = logger;
    this.#local = local;
  }

  /** Installs the function that delivers payloads to this instance's connections of `kind`; returns its remover. */
  handle(kind: ConnectionKind, handler: ConnectionDeliveryHandler): () => void {
    if (!KINDS.includes(kind)) throw new TypeError(`ConnectionRegistry.handle: unknown kind ${JSON.stringify(kind)}`);
    this.#handlers.set(kind, handler);
    return () => {
      if (this.#handlers.get(kind) === handler) this.#handlers.delete(kind);
    };
  }

  /** Installs the receiver of `sendToInstance(…, topic, …)` payloads; returns its remover. */
  handleInstance(topic: string, handler: InstanceMessageHandler): () => void {
    this.#instanceHandlers.set(topic, handler);
    return () => {
      if (this.#instanceHandlers.get(topic) === handler) this.#instanceHandlers.delete(topic);
    };
  }

  /** Removes every handler. */
  clear(): void {
    this.#handlers.clear();
    this.#instanceHandlers.clear();
  }

  /** Hands `row` to its handler (dropped, and logged, when it is not JSON or has no handler; a throwing handler is logged). */
  dispatch(row: MessageRow): void {
    let payload: unknown;
    try {
      payload = JSON.parse(row.payload);
    } catch (error) {
      this.#logger.error({ err: error, seq: row.seq }, 'connection registry: a stored payload is not JSON; dropped');
      return;
    }
    try {
      if (row.connection_id === null) {
        const handler = this.#instanceHandlers.get(row.topic);
        if (handler === undefined) this.#logger.warn({ topic: row.topic }, 'connection registry: no handler for an instance message; dropped');
        else handler(payload);
        return;
      }
      const local = this.#local.get(row.connection_id);
      if (local === undefined) return; // closed meanwhile
      const handler = this.#handlers.get(local.kind);
      if (handler === undefined) this.#logger.warn({ kind: local.kind }, 'connection registry: no handler for this kind; payload dropped');
      else handler(row.connection_id, payload);
    } catch (error) {
      this.#logger.error({ err: error }, 'connection registry: a delivery handler threw');
    }
  }
}
