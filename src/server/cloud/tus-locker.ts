/**
 * A tus Locker on the storage's advisory locks, so one upload is written by one request at a time
 * across every instance (tus' default locker is in-process memory). A lock request for an upload
 * this process holds asks the holder to let go (tus' `cancelReq`), as the memory locker does;
 * a holder on another instance keeps the lock until its request ends. Requests @tus/server
 * serves itself take their locks through `withoutDrain()`: they hold them for a moment (HEAD,
 * POST, DELETE), so they are never asked to let go; asking would start tus' 3 s drain timer,
 * which nothing clears and which keeps a closing process alive.
 */
import type { Lock, Locker, RequestRelease } from '@tus/server';
import { FusionError } from '../../helper/errors.js';
import type { FusionStorage } from '../storage/storage.js';

/** The advisory lock key of tus upload `id` (the store's id). */
export function tusLockKey(id: string): string {
  return `fusion/cloud-tus:${id}`;
}

/** Tus locks on `storage.withAdvisoryLock`. */
export class AdvisoryTusLocker implements Locker {
  readonly #storage: () => FusionStorage;
  /** Holders in this process: upload id to the callback asking them to release. */
  readonly #holders: Map<string, RequestRelease>;
  readonly #drain: boolean;

  constructor(storage: () => FusionStorage, holders: Map<string, RequestRelease> = new Map(), drain = true) {
    this.#storage = storage;
    this.#holders = holders;
    this.#drain = drain;
  }

  /** The same locks, whose holders are never asked to release (for the requests tus serves itself). */
  withoutDrain(): AdvisoryTusLocker {
    return new AdvisoryTusLocker(this.#storage, this.#holders, false);
  }

  /** A lock on upload `id`. */
  newLock(id: string): Lock {
    return new AdvisoryTusLock(id, this.#storage, this.#holders, this.#drain);
  }
}

class AdvisoryTusLock implements Lock {
  readonly #id: string;
  readonly #storage: () => FusionStorage;
  readonly #holders: Map<string, RequestRelease>;
  readonly #drain: boolean;
  #release: (() => void) | null = null;
  #held: Promise<void> | null = null;

  constructor(id: string, storage: () => FusionStorage, holders: Map<string, RequestRelease>, drain: boolean) {
    this.#id = id;
    this.#storage = storage;
    this.#holders = holders;
    this.#drain = drain;
  }

  async lock(signal: AbortSignal, cancelReq: RequestRelease): Promise<void> {
    await this.#holders.get(this.#id)?.();
    let acquired!: () => void;
    const gotIt = new Promise<void>((resolve) => (acquired = resolve));
    const released = new Promise<void>((resolve) => (this.#release = resolve));
    this.#held = this.#storage().withAdvisoryLock(tusLockKey(this.#id), async () => {
      if (signal.aborted) return; // gave up while waiting: let go at once
      this.#holders.set(this.#id, this.#drain ? cancelReq : () => undefined);
      acquired();
      await released;
    });
    this.#held.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(new FusionError('FUSION_ERR_LOCK_TIMEOUT', `upload ${this.#id} is locked by another request`));
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    try {
      await Promise.race([gotIt, aborted]);
    } catch (error) {
      this.#release?.();
      throw error;
    }
  }

  async unlock(): Promise<void> {
    if (this.#holders.get(this.#id) !== undefined) this.#holders.delete(this.#id);
    this.#release?.();
    await this.#held;
  }
}
