/**
 * A case change and its `onCaseEvent`: in one transaction when an event API is mounted (a
 * failed event write rolls the change back), else the change, then the event whose throw is
 * only logged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import type { Case } from '../../concept/index.js';
import type { FusionHost } from '../host.js';
import type { FusionStorage } from '../storage/storage.js';
import type { CaseEventCategory, CaseEventOptions } from './context.js';

/** Runs case changes with their events; knows the options of the change in progress. */
export class CaseChanges {
  /** The change's options while its transaction runs (for `super.onCaseEvent(category, case)` without them). */
  readonly #change = new AsyncLocalStorage<CaseEventOptions>();

  /** The options of the change running in this async context, if any. */
  current(): CaseEventOptions | undefined {
    return this.#change.getStore();
  }

  /**
   * Runs a change `step` with the storage it should write with, then `onCaseEvent` about the
   * case `subject` picks from the result (it may throw, e.g. 404). With an event API: both in
   * one transaction. Without: the step, then onCaseEvent whose throw is only logged.
   */
  async commit<C extends Case, R>(
    server: FusionHost,
    onCaseEvent: (category: CaseEventCategory, caseObj: C, options: CaseEventOptions) => Promise<void>,
    category: CaseEventCategory,
    step: (storage: FusionStorage) => Promise<R>,
    subject: (result: R) => C,
  ): Promise<R> {
    if (server.eventNotifier === null) {
      const result = await step(server.storage);
      const caseObj = subject(result);
      try {
        await onCaseEvent(category, caseObj, { storage: server.storage });
      } catch (error) {
        server.logger.error({ err: error, category, case_guid: caseObj.guid }, 'case API: onCaseEvent failed');
      }
      return result;
    }
    return server.storage.transaction((tx) => {
      const options: CaseEventOptions = { storage: tx, trx: tx.knex as Knex.Transaction };
      return this.#change.run(options, async () => {
        const result = await step(tx);
        await onCaseEvent(category, subject(result), options);
        return result;
      });
    });
  }
}
