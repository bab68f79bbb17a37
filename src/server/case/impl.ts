/**
 * FusionCaseAPI: the six case routes of edf_fusion over `server.storage`, each step
 * overridable by subclassing (`protected async createCase(ctx)`...) or by a hook
 * (`new FusionCaseAPI({ hooks: { createCase: async (ctx, next) => ... } })`).
 * With an event API mounted, a change (create, update, delete, attach) and its event commit
 * in one transaction (`ctx.storage` is bound to it): a crash or a failed event write loses both.
 * Running a change with its event (case-change.ts), the whole-list batches (full-list.ts) and
 * the input checks (case-input.ts) live in their own files.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Case } from '../../concept/index.js';
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { RouteContext } from '../route.js';
import type { FusionStorage } from '../storage/storage.js';
import type { FusionHost } from '../host.js';
import { CaseChanges } from './case-change.js';
import { bodyObject, isCaseClass } from './case-input.js';
import { DEFAULT_CASE_CONFIG } from './config.js';
import type { FusionCaseConfig } from './config.js';
import { checkCaseHooks } from './context.js';
import type {
  AttachCaseContext,
  CaseCallerContext,
  CaseEventCategory,
  CaseEventOptions,
  CaseStepName,
  CaseSteps,
  CreateCaseContext,
  DeleteCaseContext,
  EnumerateCasesContext,
  FusionCaseClass,
  FusionCaseHooks,
  RetrieveCaseContext,
  UpdateCaseContext,
} from './context.js';
import { FULL_LIST_BATCH, allCases } from './full-list.js';
import { caseRouteSpecs } from './routes.js';
import { comparePageKeys, pageOf, parsePageQuery, sendPage } from '../list-paging.js';
import { sendListStream } from '../list-stream.js';

/** Options of FusionCaseAPI. */
export interface FusionCaseAPIOptions<C extends Case = Case> {
  /** Case class cases are decoded with (a subclass such as TimelineCase); default the server's. It becomes the server's caseClass. */
  caseClass?: FusionCaseClass<C>;
  /** The parsed `case` section; default: the server's `config.case` (defaults when absent). */
  config?: FusionCaseConfig;
  /** Replacements for steps; each gets `(ctx, next)` where `next()` runs the class's own step. */
  hooks?: FusionCaseHooks<C>;
}

type RequestContext = RouteContext<unknown, unknown, false>;

/** Lock key serializing updates of one case across instances (close vs. edit races). */
function caseLockKey(guid: string): string {
  return `fusion:case:${guid}`;
}

/** The case API: GET /api/cases, POST /api/case, GET/PUT/DELETE /api/case/:case_guid, PUT .../attach/:next_case_guid. */
export class FusionCaseAPI<C extends Case = Case> extends FusionAPI {
  /** The API name. */
  readonly name: string = 'case';
  readonly #hooks: FusionCaseHooks<C>;
  readonly #givenClass: FusionCaseClass<C> | undefined;
  readonly #givenConfig: FusionCaseConfig | undefined;
  #caseClass: FusionCaseClass<C> | null = null;
  #config: FusionCaseConfig | null = null;
  #server: FusionHost | null = null;
  readonly #changes = new CaseChanges();

  constructor(options: FusionCaseAPIOptions<C> = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('FusionCaseAPI: options must be an object');
    if (options.caseClass !== undefined && !isCaseClass(options.caseClass)) {
      throw new TypeError('FusionCaseAPI: options.caseClass must be Case or a subclass (with fromJSON and jsonSchema)');
    }
    if (options.config !== undefined && typeof options.config?.allowEmptyAcs !== 'boolean') {
      throw new TypeError('FusionCaseAPI: options.config must be a parsed case section (see parseCaseConfig)');
    }
    checkCaseHooks(options.hooks);
    this.#hooks = { ...options.hooks };
    this.#givenClass = options.caseClass;
    this.#givenConfig = options.config;
    this.#caseClass = options.caseClass ?? null;
  }

  /** The case class (known once set up, or when given in the options). */
  get caseClass(): FusionCaseClass<C> {
    if (this.#caseClass === null) throw new Error('FusionCaseAPI: caseClass is known once the API is set up');
    return this.#caseClass;
  }

  /** The parsed `case` config (after setup). */
  get config(): FusionCaseConfig {
    if (this.#config === null) throw new Error('FusionCaseAPI: config is available once the API is set up');
    return this.#config;
  }

  /** The server this API is mounted on (after setup). */
  protected get server(): FusionHost {
    if (this.#server === null) throw new Error('FusionCaseAPI: the server is known once the API is set up');
    return this.#server;
  }

  /** Adds the six routes and installs the retrieve step as the server's case loader. */
  setup(app: FastifyInstance, server: FusionHost): void {
    this.#server = server;
    this.#caseClass = this.#resolveClass(server);
    this.#config = this.#givenConfig ?? server.config.case ?? { ...DEFAULT_CASE_CONFIG };
    server.setCaseLoader((guid) => this.#retrieve(guid));
    // Bodies are decoded by the case class itself (the same declarations the schemas derive
    // from) in the handlers: fastify's default ajv would coerce types (42 -> "42") and drop
    // unknown keys instead of refusing them. GUID params are checked by route()'s prologue.
    app.setValidatorCompiler(() => () => true);
    const specs = caseRouteSpecs(this.caseClass);
    server.route(app, specs.enumerateCases, (ctx) => this.#enumerate(ctx));
    server.route(app, specs.createCase, (ctx) => this.#create(ctx));
    server.route(app, specs.retrieveCase, (ctx) => ctx.case);
    server.route(app, specs.updateCase, (ctx) => this.#update(ctx));
    server.route(app, specs.deleteCase, (ctx) => this.#delete(ctx));
    server.route(app, specs.attachCase, (ctx) => this.#attach(ctx));
  }

  /** Default create step: stores `ctx.case` (FUSION_ERR_CASE_EXISTS, 409, when its guid is taken). */
  protected async createCase(ctx: CreateCaseContext<C>): Promise<C> {
    return ctx.storage.createCase(ctx.case);
  }

  /** Default retrieve step: the stored case, or null. */
  protected async retrieveCase(ctx: RetrieveCaseContext<C>): Promise<C | null> {
    return ctx.storage.retrieveCase(ctx.caseClass, ctx.caseGuid);
  }

  /**
   * Default update step: reloads the case, applies the patch with `Case.update` (refused when
   * closed, readonly keys only with their value) and stores it. The API runs the step holding
   * a per-case lock (all instances), taken before the transaction opens: do not take it again.
   * Nothing is stored when any of it fails.
   */
  protected async updateCase(ctx: UpdateCaseContext<C>): Promise<C> {
    const { storage } = ctx;
    const current = await storage.retrieveCase(ctx.caseClass, ctx.caseGuid);
    if (current === null) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${ctx.caseGuid} not found`);
    return storage.updateCase(current.clone().update(ctx.body, { unknownKeys: 'reject' }));
  }

  /** Default delete step: deletes the stored case; false when it was gone already. */
  protected async deleteCase(ctx: DeleteCaseContext<C>): Promise<boolean> {
    return ctx.storage.deleteCase(ctx.caseGuid);
  }

  /** Default enumerate step: the stored cases visible to `ctx.acs` (all when undefined), filtered in SQL. */
  protected async enumerateCases(ctx: EnumerateCasesContext<C>): Promise<C[]> {
    return ctx.storage.enumerateCases(ctx.caseClass, {
      ...(ctx.acs === undefined ? {} : { acs: ctx.acs }),
      ...(ctx.page === undefined ? {} : { limit: ctx.page.limit, ...(ctx.page.after === undefined ? {} : { after: ctx.page.after }) }),
    });
  }

  /** Default attach step: re-keys the stored case to `nextCaseGuid` and marks it managed, atomically. */
  protected async attachCase(ctx: AttachCaseContext<C>): Promise<C | null> {
    return ctx.storage.attachCase(ctx.caseClass, ctx.caseGuid, ctx.nextCaseGuid);
  }

  /**
   * Called after a case was created, updated, deleted or attached. Default: notifies the
   * server's event API (`server.eventNotifier`) in `options.trx`. With an event API mounted it
   * runs inside the change's transaction: a throw rolls the change back and the client gets
   * the error. Without one the change is stored already: a throw is logged, never answered.
   * An override calling `super.onCaseEvent(category, case)` without options still joins the transaction.
   */
  protected async onCaseEvent(category: CaseEventCategory, caseObj: C, options?: CaseEventOptions): Promise<void> {
    const trx = (options ?? this.#changes.current())?.trx;
    await this.server.eventNotifier?.notify(category, caseObj, null, trx === undefined ? {} : { trx });
  }

  #resolveClass(server: FusionHost): FusionCaseClass<C> {
    const given = this.#givenClass;
    if (given === undefined) {
      if (!isCaseClass(server.caseClass)) throw new TypeError('FusionCaseAPI: server.caseClass must be Case or a subclass');
      return server.caseClass as unknown as FusionCaseClass<C>;
    }
    if (server.caseClass !== Case && server.caseClass !== given) {
      throw new TypeError(
        `FusionCaseAPI: the server decodes cases as ${server.caseClass.conceptName} but the case API as ${given.conceptName}: give the class to one of them`,
      );
    }
    server.caseClass = given;
    return given;
  }

  /** Runs step `name`: the hook when there is one (with `next` = the class's step), else the class's step. */
  #run<K extends CaseStepName>(name: K, ctx: CaseSteps<C>[K][0]): Promise<CaseSteps<C>[K][1]> {
    const step = this[name] as unknown as (ctx: CaseSteps<C>[K][0]) => Promise<CaseSteps<C>[K][1]>;
    const next = (): Promise<CaseSteps<C>[K][1]> => step.call(this, ctx);
    const hook = this.#hooks[name];
    if (hook === undefined) return next();
    return Promise.resolve((hook as (c: CaseSteps<C>[K][0], n: typeof next) => CaseSteps<C>[K][1] | Promise<CaseSteps<C>[K][1]>)(ctx, next));
  }

  #retrieve(caseGuid: string): Promise<C | null> {
    return this.#run('retrieveCase', { server: this.server, storage: this.server.storage, caseClass: this.caseClass, caseGuid });
  }

  #caller(ctx: RequestContext): CaseCallerContext<C> {
    return {
      server: this.server,
      storage: this.server.storage,
      caseClass: this.caseClass,
      request: ctx.request,
      identity: ctx.identity,
      managed: this.#isManaged(ctx.identity),
    };
  }

  #isManaged(identity: Identity): boolean {
    return this.server.authorizer?.isManaged(identity) ?? false;
  }

  #checkAcs(acs: readonly string[], managed: boolean): void {
    if (acs.length === 0 && !managed && !this.config.allowEmptyAcs) {
      throw new FusionError('FUSION_ERR_VALIDATION', `${this.caseClass.conceptName}.acs: must name at least one user or group (case.allow_empty_acs is false)`);
    }
  }

  /** Runs a change `step`, then `onCaseEvent` about the case `subject` picks from the result (see CaseChanges.commit). */
  async #commit<R>(category: CaseEventCategory, step: (storage: FusionStorage) => Promise<R>, subject: (result: R) => C): Promise<R> {
    return this.#changes.commit(this.server, (cat, caseObj: C, options) => this.onCaseEvent(cat, caseObj, options), category, step, subject);
  }

  async #enumerate(ctx: RequestContext): Promise<C[] | FastifyReply> {
    const caller = this.#caller(ctx);
    const acs = caller.managed ? undefined : [...ctx.identity.acs];
    const page = parsePageQuery(ctx.query);
    const authorizer = this.server.authorizer;
    const visible = (cases: C[]): C[] => (authorizer === null ? cases : cases.filter((c) => authorizer.canAccessCase(ctx.identity, c)));
    if (page === null) {
      // The whole list (edf_fusion clients): read and sent in batches, never one huge answer at once.
      const batches = allCases((after) => this.#run('enumerateCases', { ...caller, acs, page: { limit: FULL_LIST_BATCH + 1, ...(after ? { after } : {}) } }));
      const first = await batches.next(); // a failure here still answers in the envelope
      const rest = async function* (): AsyncGenerator<C[], void, undefined> {
        for await (const batch of batches) yield visible(batch);
      };
      return sendListStream(ctx.reply, first.done === true ? [] : visible(first.value), rest());
    }
    // One case more than the page tells whether a next page exists.
    const fetched = await this.#run('enumerateCases', { ...caller, acs, page: { ...page, limit: page.limit + 1 } });
    const { items, next } = pageOf([...fetched].sort(comparePageKeys), page);
    return sendPage(ctx.reply, visible(items), next);
  }

  async #create(ctx: RequestContext): Promise<C> {
    const caller = this.#caller(ctx);
    const body = bodyObject(ctx.body, this.caseClass.conceptName);
    const decoded = this.caseClass.fromJSON(body, { unknownKeys: 'reject' });
    const caseObj = decoded.managed === caller.managed ? decoded : this.caseClass.fromJSON({ ...decoded.toJSON(), managed: caller.managed });
    this.#checkAcs(caseObj.acs, caller.managed);
    this.server.eventNotifier?.checkWebhookUrls?.(caseObj.webhooks);
    return this.#commit(
      'create_case',
      (storage) => this.#run('createCase', { ...caller, storage, body, case: caseObj }),
      (created) => created,
    );
  }

  async #update(ctx: RequestContext): Promise<C> {
    const caller = this.#caller(ctx);
    const current = ctx.case as C;
    const body = bodyObject(ctx.body, this.caseClass.conceptName);
    const preview = current.clone().update(body, { unknownKeys: 'reject' }); // refuses bad input before any step runs
    if (Object.hasOwn(body, 'acs')) this.#checkAcs(preview.acs, caller.managed);
    if (Object.hasOwn(body, 'webhooks')) this.server.eventNotifier?.checkWebhookUrls?.(preview.webhooks);
    const caseGuid = ctx.params.case_guid!;
    // The lock first, then the transaction: on PGlite a transaction holds the only connection.
    return this.server.storage.withAdvisoryLock(caseLockKey(caseGuid), () =>
      this.#commit(
        'update_case',
        (storage) => this.#run('updateCase', { ...caller, storage, caseGuid, case: current, body }),
        (updated) => updated,
      ),
    );
  }

  async #delete(ctx: RequestContext): Promise<undefined> {
    const caller = this.#caller(ctx);
    const current = ctx.case as C;
    await this.#commit(
      'delete_case',
      (storage) => this.#run('deleteCase', { ...caller, storage, caseGuid: ctx.params.case_guid!, case: current }),
      (deleted) => {
        if (!deleted) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${current.guid} not found`);
        return current;
      },
    );
    return undefined;
  }

  async #attach(ctx: RequestContext): Promise<C> {
    const caller = this.#caller(ctx);
    const current = ctx.case as C;
    if (!caller.managed) {
      throw new FusionError('FUSION_ERR_FORBIDDEN', 'attach_case: only service clients (X-Fusion-API-Token) may attach a case');
    }
    const nextCaseGuid = ctx.params.next_case_guid!;
    const attached = await this.#commit(
      'attach_case',
      (storage) => this.#run('attachCase', { ...caller, storage, caseGuid: ctx.params.case_guid!, nextCaseGuid, case: current }),
      (result) => {
        if (result === null) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${current.guid} not found`);
        return result;
      },
    );
    return attached!;
  }
}
