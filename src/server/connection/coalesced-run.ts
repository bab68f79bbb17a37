/** Runs an async job one at a time: a request while it runs makes it run once more after, never twice at once. */
export class CoalescedRun {
  readonly #job: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  /** `job` is the work; `onError` gets what a run threw (the next request runs it again). */
  constructor(job: () => Promise<void>, onError: (error: unknown) => void) {
    this.#job = job;
    this.#onError = onError;
  }

  /** Starts a run, or marks one to follow the run in progress. */
  request(): void {
    if (this.#stopped) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.#job()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.request();
        }
      });
  }

  /** Stops further runs and waits for the one in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
