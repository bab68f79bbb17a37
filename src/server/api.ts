/** The base class of every server API (auth, case, info...), each mounted as an encapsulated fastify plugin. */
import type { FastifyInstance } from 'fastify';
import type { FusionHost } from './host.js';

/**
 * One API of a FusionServer. `setup` adds its routes, hooks and decorators to `app`, a child
 * instance of the server's fastify: what it adds stays in its scope. APIs that keep long-lived
 * connections (SSE, WebSocket) end them in a `preClose` hook added in `setup`.
 */
export abstract class FusionAPI {
  /** Short name ('auth', 'case', 'info', or a service's own); used as the plugin name in logs. */
  abstract readonly name: string;

  /** Adds this API's routes to `app` (already scoped to this API). */
  abstract setup(app: FastifyInstance, server: FusionHost): Promise<void> | void;

  /** Runs after storage is open and migrated, before the server listens. */
  start?(server: FusionHost): Promise<void>;

  /** Runs on shutdown, after the server has stopped accepting requests and before storage closes. */
  close?(): Promise<void>;
}
