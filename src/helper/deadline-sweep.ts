/**
 * Deadlines of many short operations behind one timer: adding one is a Set insertion, and the
 * timer is rescheduled only when a deadline comes before the one it waits for. It fires at the
 * earliest deadline, expires what is due and waits for the next. A per-operation setTimeout /
 * clearTimeout pair costs more than the operations it guards when they take microseconds.
 */

/** An operation with a deadline (ms since the epoch, `Date.now()`). */
export interface Expiring {
  readonly deadline: number;
  /** Called once, when the deadline passed before the operation was deleted. */
  expire(): void;
}

/** One timer for many deadlines (see the file comment). */
export class DeadlineSweep<T extends Expiring> {
  readonly #items = new Set<T>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;

  /** Operations waiting. */
  get size(): number {
    return this.#items.size;
  }

  /** Watches `item` until it is deleted or expires. */
  add(item: T): void {
    this.#items.add(item);
    if (item.deadline < this.#timerAt) this.#schedule(item.deadline);
  }

  /** Stops watching `item` (done in time); the timer stays for the others and fires idle at worst once. */
  delete(item: T): void {
    this.#items.delete(item);
  }

  /** Forgets every item and stops the timer. */
  clear(): void {
    this.#items.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #schedule(at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - Date.now()));
    // The operations' own sockets keep the process alive; a bare deadline does not.
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.#items) {
      if (item.deadline <= now) {
        this.#items.delete(item);
        item.expire();
      } else if (item.deadline < next) {
        next = item.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.#timerAt) this.#schedule(next);
  }
}
