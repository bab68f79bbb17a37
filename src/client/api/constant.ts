/** Client twin of FusionConstantAPI: GET /api/constant. */
import { Constant } from '../../concept/index.js';
import type { FusionClient } from '../client.js';

/** Options of FusionConstantAPIClient. */
export interface FusionConstantAPIClientOptions<C extends Constant = Constant> {
  client: FusionClient;
  /** Concept class to decode with (a service's Constant subclass); default Constant. */
  constantClass?: new (input: never) => C;
}

/** Reads a service's Constant (banner, allow_empty_acs, ...). */
export class FusionConstantAPIClient<C extends Constant = Constant> {
  readonly #client: FusionClient;
  readonly #constantClass: new (input: never) => C;

  constructor(options: FusionConstantAPIClientOptions<C>) {
    if (!options?.client) throw new TypeError('FusionConstantAPIClient: client is required');
    this.#client = options.client;
    this.#constantClass = options.constantClass ?? (Constant as unknown as new (input: never) => C);
  }

  /** GET /api/constant. */
  constant(): Promise<C> {
    return this.#client.getConcept('/api/constant', this.#constantClass);
  }
}
