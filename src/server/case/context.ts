/**
 * One typed context per overridable step of the case API (edf_fusion's CreateContext,
 * RetrieveContext...), the hook signatures that replace a step, and the event categories.
 */
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import type { Case, DecodeOptions, Identity, JsonSchema, SchemaOptions } from '../../concept/index.js';
import type { FusionHost } from '../host.js';
import type { FusionStorage } from '../storage/storage.js';

/** A case class the case API works with (Case or a subclass): constructor, decoder, JSON Schema. */
export type FusionCaseClass<C extends Case = Case> = (new (input: never) => C) & {
  readonly conceptName: string;
  fromJSON(data: unknown, options?: DecodeOptions): C;
  jsonSchema(options?: SchemaOptions): JsonSchema;
};

/** What every step gets: the server (storage, logger, authorizer), the case class and the storage to write with. */
export interface CaseStepContext<C extends Case = Case> {
  readonly server: FusionHost;
  readonly caseClass: FusionCaseClass<C>;
  /**
   * The storage this step reads and writes with. For create, update, delete and attach while
   * an event API is mounted it is bound to the transaction the change's event commits in
   * (`server.storage.transaction`): use it (and `storage.knex` for your own tables) so the
   * change and its event commit together. Otherwise it is `server.storage`.
   */
  readonly storage: FusionStorage;
}

/** Steps run for a request: who asks, and whether it is a service (API-key) client. */
export interface CaseCallerContext<C extends Case = Case> extends CaseStepContext<C> {
  readonly request: FastifyRequest;
  readonly identity: Identity;
  /** True when the caller is an API-key (service) client: `server.authorizer.isManaged(identity)`. */
  readonly managed: boolean;
}

/** POST /api/case. */
export interface CreateCaseContext<C extends Case = Case> extends CaseCallerContext<C> {
  /** The body as sent (wire form, a JSON object). */
  readonly body: Record<string, unknown>;
  /** The body decoded (unknown keys refused), with `managed` set from the caller. */
  readonly case: C;
}

/**
 * Loading one case by guid. The API installs this step as the server's case loader, so it
 * runs for every route with a `case_guid` param (a service's too), before authorization of
 * the case: it has no request.
 */
export interface RetrieveCaseContext<C extends Case = Case> extends CaseStepContext<C> {
  readonly caseGuid: string;
}

/** PUT /api/case/:case_guid. */
export interface UpdateCaseContext<C extends Case = Case> extends CaseCallerContext<C> {
  readonly caseGuid: string;
  /** The case as loaded for this request (open, visible to the caller). */
  readonly case: C;
  /** The patch (wire form, already checked against `case`: types, readonly keys, unknown keys). */
  readonly body: Record<string, unknown>;
}

/** DELETE /api/case/:case_guid. */
export interface DeleteCaseContext<C extends Case = Case> extends CaseCallerContext<C> {
  readonly caseGuid: string;
  /** The case as loaded for this request. */
  readonly case: C;
}

/** GET /api/cases. */
export interface EnumerateCasesContext<C extends Case = Case> extends CaseCallerContext<C> {
  /** The caller's access-control names (username ∪ groups); undefined for API-key clients, who see every case. */
  readonly acs: readonly string[] | undefined;
  /**
   * The page asked for (`?limit=&cursor=`): the step may return only cases after `after` (creation
   * time, then guid), at most `limit` of them (the default step does, in SQL); more is cut by the API.
   */
  readonly page?: { readonly limit: number; readonly after?: { readonly created: Date; readonly guid: string } };
}

/** PUT /api/case/:case_guid/attach/:next_case_guid (API-key clients only). */
export interface AttachCaseContext<C extends Case = Case> extends CaseCallerContext<C> {
  readonly caseGuid: string;
  readonly nextCaseGuid: string;
  /** The case as loaded for this request. */
  readonly case: C;
}

/** Each step: its context and what it returns. */
export interface CaseSteps<C extends Case = Case> {
  /** Stores the new case; returns it as stored. */
  createCase: [CreateCaseContext<C>, C];
  /** The case, or null when there is none (404). */
  retrieveCase: [RetrieveCaseContext<C>, C | null];
  /** Applies the patch and stores; returns the updated case. */
  updateCase: [UpdateCaseContext<C>, C];
  /** Deletes; false when there was nothing to delete (404). */
  deleteCase: [DeleteCaseContext<C>, boolean];
  /** The cases the caller may see. */
  enumerateCases: [EnumerateCasesContext<C>, C[]];
  /** Re-keys the case to nextCaseGuid and marks it managed; null when it does not exist (404). */
  attachCase: [AttachCaseContext<C>, C | null];
}

/** Name of an overridable step. */
export type CaseStepName = keyof CaseSteps;

/** The step names, in route order. */
export const CASE_STEP_NAMES: readonly CaseStepName[] = Object.freeze([
  'enumerateCases',
  'createCase',
  'retrieveCase',
  'updateCase',
  'deleteCase',
  'attachCase',
]);

/** A hook replacing step K: `next()` runs the class's own step (the default or a subclass's). */
export type CaseStepHook<C extends Case, K extends CaseStepName> = (
  ctx: CaseSteps<C>[K][0],
  next: () => Promise<CaseSteps<C>[K][1]>,
) => Promise<CaseSteps<C>[K][1]> | CaseSteps<C>[K][1];

/** Hooks passed to `new FusionCaseAPI({ hooks })`, each replacing one step. */
export type FusionCaseHooks<C extends Case = Case> = { [K in CaseStepName]?: CaseStepHook<C, K> };

/** Categories `onCaseEvent` receives (the events API's categories for case changes). */
export type CaseEventCategory = 'create_case' | 'update_case' | 'delete_case' | 'attach_case';

/** What `onCaseEvent` gets besides the category and the case. */
export interface CaseEventOptions {
  /** The storage the change was written with (the step's `ctx.storage`). */
  readonly storage: FusionStorage;
  /** The transaction the change is in, when an event API is mounted: pass it to `notify` so the event commits with the change. */
  readonly trx?: Knex.Transaction;
}

/** Throws a TypeError naming the first hook that is not a function or not a step. */
export function checkCaseHooks(hooks: unknown): void {
  if (hooks === undefined) return;
  if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks)) {
    throw new TypeError('FusionCaseAPI: options.hooks must be an object such as { createCase: async (ctx, next) => ... }');
  }
  for (const [name, hook] of Object.entries(hooks)) {
    if (!(CASE_STEP_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`FusionCaseAPI: options.hooks.${name} is not a step; steps are ${CASE_STEP_NAMES.join(', ')}`);
    }
    if (hook !== undefined && typeof hook !== 'function') {
      throw new TypeError(`FusionCaseAPI: options.hooks.${name} must be a function (ctx, next) => result`);
    }
  }
}
