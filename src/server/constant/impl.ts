/** FusionConstantAPI: answers GET /api/constant with the Constant read from `constant.path`, following its changes. */
import type { FastifyInstance } from 'fastify';
import { Constant } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { JsonSchema } from '../envelope.js';
import type { FusionHost } from '../host.js';
import { ConceptFile } from './constant-file.js';

/** A Constant class (Constant or a service's subclass) the file is decoded with. */
export interface ConstantClass<C extends Constant = Constant> {
  fromFile(path: string): Promise<C>;
  jsonSchema(): JsonSchema;
}

/** Options of FusionConstantAPI; unset ones come from the `constant` config section. */
export interface FusionConstantAPIOptions<C extends Constant = Constant> {
  /** JSON/YAML file holding the Constant. */
  path?: string;
  /** Authorize 'retrieve_constant' instead of answering everyone (default false). */
  authRequired?: boolean;
  /** Class to decode the file with (default Constant). */
  constantClass?: ConstantClass<C>;
  /** Quiet time after a change before reloading, in ms (default 50). */
  debounceMs?: number;
  /** A request stats the file at most this often, in ms, to catch missed change events (default 1000). */
  checkIntervalMs?: number;
}

/** Serves the Constant from a file; a broken file keeps the last good version, a missing one answers 503. */
export class FusionConstantAPI<C extends Constant = Constant> extends FusionAPI {
  /** The API name. */
  readonly name: string = 'constant';
  readonly #options: FusionConstantAPIOptions<C>;
  #file: ConceptFile<C> | null = null;

  constructor(options: FusionConstantAPIOptions<C> = {}) {
    super();
    if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
      throw new TypeError('FusionConstantAPI: options.path must be a non-empty file path');
    }
    for (const name of ['debounceMs', 'checkIntervalMs'] as const) {
      const value = options[name];
      if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) throw new TypeError(`FusionConstantAPI: options.${name} must be a number >= 0`);
    }
    this.#options = options;
  }

  /** The Constant served now (null while unavailable). */
  async constant(): Promise<C | null> {
    return (await this.#file?.current()) ?? null;
  }

  /** Adds GET /api/constant. */
  setup(app: FastifyInstance, server: FusionHost): void {
    const path = this.#options.path ?? server.config.constant?.path;
    if (path === undefined) {
      throw new FusionError('FUSION_ERR_CONFIG', "constant.path: FusionConstantAPI needs a 'constant' section with a path (or options.path)");
    }
    const constantClass = this.#options.constantClass ?? (Constant as unknown as ConstantClass<C>);
    const file = new ConceptFile<C>({
      path,
      decode: (p) => constantClass.fromFile(p),
      logger: server.logger.child({ module: 'server.constant' }),
      debounceMs: this.#options.debounceMs,
      checkIntervalMs: this.#options.checkIntervalMs,
    });
    this.#file = file;
    const authRequired = this.#options.authRequired ?? server.config.constant?.authRequired ?? false;
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/constant',
        operation: 'retrieve_constant',
        public: !authRequired,
        response: constantClass.jsonSchema(),
        errors: ['FUSION_ERR_CONSTANT_UNAVAILABLE'],
        summary: 'Service-wide constants (banner, allow_empty_acs, ...)',
      },
      async () => {
        const value = await file.current();
        if (value === null) {
          const why = file.present ? 'the file named by constant.path is not valid' : 'the file named by constant.path does not exist';
          throw new FusionError('FUSION_ERR_CONSTANT_UNAVAILABLE', `constant unavailable: ${why}; create or fix it (no restart needed)`);
        }
        return value;
      },
    );
  }

  /** Loads the file and starts following it. */
  override async start(): Promise<void> {
    await this.#file?.start();
  }

  /** Stops following the file. */
  override async close(): Promise<void> {
    this.#file?.close();
  }
}
