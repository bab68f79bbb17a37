/**
 * An in-process publish/subscribe hub keyed by topic. Listeners of a topic receive each
 * message published to it, synchronously and in publish order. The storage-backed event bus
 * (src/server/event) fans events out to local SSE streams through one of these.
 */

/** Receives the messages published to a topic. */
export type PubSubListener<T> = (message: T) => void;

/** Options of PubSub. */
export interface PubSubOptions<K> {
  /**
   * Called with what a listener threw; the other listeners still run. Default: the first
   * error is rethrown by `publish` once every listener has run.
   */
  onError?: (error: unknown, topic: K) => void;
}

/** Topic-keyed listeners; `subscribe` returns the function that removes the listener. */
export class PubSub<T, K = string> {
  readonly #topics = new Map<K, Set<PubSubListener<T>>>();
  readonly #onError: ((error: unknown, topic: K) => void) | undefined;
  #size = 0;

  constructor(options: PubSubOptions<K> = {}) {
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new TypeError('PubSub: options.onError must be a function (error, topic) => void');
    }
    this.#onError = options.onError;
  }

  /** Adds `listener` to `topic`; the returned function removes it (calling it twice is harmless). */
  subscribe(topic: K, listener: PubSubListener<T>): () => void {
    if (typeof listener !== 'function') throw new TypeError('PubSub.subscribe: listener must be a function');
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: PubSubListener<T> = (message) => listener(message);
    let listeners = this.#topics.get(topic);
    if (listeners === undefined) {
      listeners = new Set();
      this.#topics.set(topic, listeners);
    }
    listeners.add(entry);
    this.#size++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.#topics.get(topic);
      if (current?.delete(entry)) this.#size--;
      if (current !== undefined && current.size === 0) this.#topics.delete(topic);
    };
  }

  /** Calls every listener of `topic` with `message`; returns how many were called. */
  publish(topic: K, message: T): number {
    const listeners = this.#topics.get(topic);
    if (listeners === undefined) return 0;
    let called = 0;
    let failure: { error: unknown } | null = null;
    // Set iteration tolerates listeners removing themselves (or others) meanwhile.
    for (const listener of listeners) {
      called++;
      try {
        listener(message);
      } catch (error) {
        if (this.#onError) this.#onError(error, topic);
        else failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
    return called;
  }

  /** Listeners of `topic`, or of every topic when omitted. */
  count(topic?: K): number {
    if (arguments.length === 0) return this.#size;
    return this.#topics.get(topic as K)?.size ?? 0;
  }

  /** The topics that have at least one listener. */
  topics(): K[] {
    return [...this.#topics.keys()];
  }

  /** Removes every listener. */
  clear(): void {
    this.#topics.clear();
    this.#size = 0;
  }
}
