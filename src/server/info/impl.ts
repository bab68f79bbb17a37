/** FusionInfoAPI: answers GET /api/info with the service's Info (name and version). */
import type { FastifyInstance } from 'fastify';
import type { Info } from '../../concept/index.js';
import { FusionAPI } from '../api.js';
import type { JsonSchema } from '../envelope.js';
import type { FusionHost } from '../host.js';

/** Options of FusionInfoAPI. */
export interface FusionInfoAPIOptions {
  /** Authorize 'retrieve_info' instead of answering everyone (default: the `info.auth_required` config, else false). */
  authRequired?: boolean;
}

/** Answers GET /api/info with the service's Info. */
export class FusionInfoAPI extends FusionAPI {
  /** The API name. */
  readonly name: string = 'info';
  readonly #options: FusionInfoAPIOptions;
  #info: Info;
  #wire: unknown;

  constructor(info: Info, options: FusionInfoAPIOptions = {}) {
    super();
    if (typeof info?.toJSON !== 'function') throw new TypeError('FusionInfoAPI: info must be an Info concept (new Info({ api, version }))');
    if (options.authRequired !== undefined && typeof options.authRequired !== 'boolean') {
      throw new TypeError('FusionInfoAPI: options.authRequired must be true or false');
    }
    this.#options = options;
    this.#info = info;
    this.#wire = info.toJSON();
  }

  /** The Info served. */
  get info(): Info {
    return this.#info;
  }

  /** Replaces the Info served (same class: the response schema is fixed at setup). */
  set info(info: Info) {
    this.#wire = info.toJSON();
    this.#info = info;
  }

  /** Adds GET /api/info. */
  setup(app: FastifyInstance, server: FusionHost): void {
    const authRequired = this.#options.authRequired ?? server.config.info?.authRequired ?? false;
    const infoClass = this.#info.constructor as unknown as { jsonSchema(): JsonSchema };
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/info',
        operation: 'retrieve_info',
        public: !authRequired,
        response: infoClass.jsonSchema(),
        summary: "The service's API name and version",
      },
      () => this.#wire,
    );
  }
}
