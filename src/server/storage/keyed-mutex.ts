/** An in-process mutex per string key: callers with the same key run one after another. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** True while some caller holds or waits for `key`. */
  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Waits for `key`, runs `fn`, releases `key` (also when `fn` throws). */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => held) : held;
    this.#tails.set(key, tail);
    try {
      if (previous) await previous;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Runs `fn` holding `key` if nobody holds or waits for it; otherwise returns `{acquired: false}`. */
  async tryRun<T>(key: string, fn: () => Promise<T>): Promise<LockAttempt<T>> {
    if (this.#tails.has(key)) return { acquired: false };
    return { acquired: true, value: await this.run(key, fn) };
  }
}

/** Outcome of a non-blocking lock attempt: the function's value when the lock was free. */
export type LockAttempt<T> = { readonly acquired: true; readonly value: T } | { readonly acquired: false };
