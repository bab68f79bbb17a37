/**
 * FusionHost: the narrow interface an API sees of the server it is mounted on (storage,
 * authorizer, logger, route builder, event notifier, case loader, the other APIs). APIs import
 * this file, never server.ts, so the server and its APIs form no import cycle; the route types
 * live here because a route's context carries its host.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Knex } from 'knex';
import type { Case, Identity } from '../concept/index.js';
import type { FusionErrorCode } from '../helper/errors.js';
import type { FusionLogger } from '../helper/logging.js';
import type { FusionAuthorizer } from './auth/authorizer.js';
import type { FusionConfig } from './config.js';
import type { JsonSchema } from './envelope.js';
import type { FusionMetrics } from './metrics/registry.js';
import type { CaseClass, FusionStorage } from './storage/storage.js';
import type { FusionTask } from './task/task.js';

/** Loads a case by guid (the case API installs one that applies its own hooks). */
export type CaseLoader = (guid: string) => Promise<Case | null>;

/** Publishes events about cases (the event API installs itself with `setEventNotifier`). */
export interface EventNotifier {
  /**
   * Stores the event `category` about `caseObj` (with `ext`) and signals it to subscribers and
   * webhooks; with `options.trx` it commits with that transaction (signalled after its commit).
   */
  notify(category: string, caseObj: Case, ext?: Record<string, unknown> | null, options?: { trx?: Knex.Transaction }): Promise<unknown>;
  /** Throws a 400 FusionError naming the first URL webhook deliveries would refuse (checked when a case is written). */
  checkWebhookUrls?(urls: readonly string[]): void;
}

/** Declares a route: what it is, who may call it, and the JSON Schemas of its input and data. */
export interface RouteSpec<Pub extends boolean = boolean, P extends readonly string[] = readonly string[]> {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  /** Operation name, passed to the authorizer and used in logs ('retrieve_case', 'update_case'...). */
  operation: string;
  /** Path params holding GUIDs: lowercased, 400 FUSION_ERR_BAD_GUID when not a UUID. With `case_guid`, the handler gets `ctx.case`. */
  params?: P;
  /** No authorization: the handler gets `identity: null`. */
  public?: Pub;
  /** Tells the authorizer this is a delete operation (needs can_delete_acs). */
  deleteOp?: boolean;
  /** With a `case_guid` param: refuse with 409 FUSION_ERR_CASE_CLOSED when the case is closed. */
  caseOpenCheck?: boolean;
  /** JSON Schema of the body, validated by fastify before the handler runs. */
  body?: JsonSchema;
  /** JSON Schema of the query string. */
  query?: JsonSchema;
  /** JSON Schema of the envelope's `data` (enables fast-json-stringify; unlisted keys are dropped). */
  response?: JsonSchema;
  /** One line for the OpenAPI document. */
  summary?: string;
  /** Longer text for the OpenAPI document. */
  description?: string;
  /** OpenAPI tags; default: the path segment after /api/. */
  tags?: string[];
  /** The body is taken as raw bytes by the route's own content-type parser (uploads): no JSON body errors are documented. */
  rawBody?: boolean;
  /** Codes the handler itself may raise; those the spec implies (auth, GUIDs, body, case) are added (route-errors.ts). */
  errors?: readonly FusionErrorCode[];
  /** Media type of the 200 answer when it is not the JSON envelope (e.g. 'text/event-stream'), for the OpenAPI document. */
  produces?: string;
  /** Request headers the handler reads, for the OpenAPI document (by name, e.g. 'Last-Event-ID'). */
  headers?: Record<string, JsonSchema>;
  /** Headers of the 200 answer, for the OpenAPI document (e.g. 'Set-Cookie'). */
  responseHeaders?: Record<string, JsonSchema>;
}

/**
 * The type of `ctx.case` on a route whose spec lists `params` P: a Case when P (a literal list)
 * holds `case_guid`, undefined when it does not, either when P is only known as string[].
 */
export type RouteCase<P extends readonly string[]> = string extends P[number] ? Case | undefined : 'case_guid' extends P[number] ? Case : undefined;

/** What a route handler receives. `identity` is null only on public routes. */
export interface RouteContext<B = unknown, Q = unknown, Pub extends boolean = false, P extends readonly string[] = readonly string[]> {
  request: FastifyRequest;
  reply: FastifyReply;
  identity: Pub extends false ? Identity : Identity | null;
  /** The case named by the `case_guid` param, loaded and access-checked; undefined without that param. */
  case: RouteCase<P>;
  /** Path params; GUID params are lowercased. */
  params: Record<string, string>;
  body: B;
  query: Q;
  /** The host the route is mounted on. */
  server: FusionHost;
}

/** A route handler: its result is wrapped in the envelope (Concepts via toJSON); `undefined` gives `{status:200}`. */
export type RouteHandler<B = unknown, Q = unknown, Pub extends boolean = false, P extends readonly string[] = readonly string[]> = (
  ctx: RouteContext<B, Q, Pub, P>,
) => Promise<unknown> | unknown;

/** What an API's `setup`, `start` and route handlers may use of the server they are mounted on. */
export interface FusionHost {
  /** The root fastify instance (an API's routes go on the scoped instance `setup` receives). */
  readonly fastify: FastifyInstance;
  /** The parsed configuration. */
  readonly config: FusionConfig;
  /** The server's logger. */
  readonly logger: FusionLogger;
  /** Case class cases are decoded with. */
  caseClass: CaseClass;
  /** Who authorizes non-public routes; null without an auth API. */
  readonly authorizer: FusionAuthorizer | null;
  /** Who publishes case events; null without an event API. */
  readonly eventNotifier: EventNotifier | null;
  /** The open storage; throws FUSION_ERR_UNAVAILABLE until the server has started. */
  readonly storage: FusionStorage;
  /** True once storage is open. */
  readonly hasStorage: boolean;
  /** A stable id of this server process among the instances sharing one database. */
  readonly instanceId: string;
  /** This server's metrics registry: modules register their series here (see docs/observability.md). */
  readonly metrics: FusionMetrics;
  /** Installs the authorizer routes ask (the auth API calls it in setup). */
  setAuthorizer(authorizer: FusionAuthorizer | null): void;
  /** Installs the event publisher (the event API calls it in setup). */
  setEventNotifier(notifier: EventNotifier | null): void;
  /** Installs the function loadCase delegates to (the case API calls it in setup). */
  setCaseLoader(loader: CaseLoader | null): void;
  /** Registers tasks that run while the server listens (stopped, shutdown tasks run, on close); before listen(). */
  addTask(...tasks: FusionTask[]): unknown;
  /** Loads a case through the installed loader; default: storage. */
  loadCase(guid: string): Promise<Case | null>;
  /** The mounted APIs, in mount order (by name; use findApi for one of a given class). */
  readonly apis: readonly { readonly name: string }[];
  /** The mounted API that is an instance of `type` (the first one), or undefined. */
  findApi<T>(type: abstract new (...args: never[]) => T): T | undefined;
  /** Adds a public route (`identity` is null) to `app` (an API's scoped instance). */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(
    app: FastifyInstance,
    spec: RouteSpec<true, P> & { public: true },
    handler: RouteHandler<B, Q, true, P>,
  ): void;
  /** Adds an authorized route (`identity` is set) to `app`. */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(app: FastifyInstance, spec: RouteSpec<false, P>, handler: RouteHandler<B, Q, false, P>): void;
  /** Adds a route whose `public` is decided at run time (`identity` may be null). */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(
    app: FastifyInstance,
    spec: RouteSpec<boolean, P>,
    handler: RouteHandler<B, Q, boolean, P>,
  ): void;
}
