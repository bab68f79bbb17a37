/** Client twin of FusionInfoAPI: GET /api/info. */
import { Info } from '../../concept/index.js';
import type { FusionClient } from '../client.js';

/** Options of FusionInfoAPIClient. */
export interface FusionInfoAPIClientOptions<I extends Info = Info> {
  client: FusionClient;
  /** Concept class to decode with (a service's Info subclass); default Info. */
  infoClass?: new (input: never) => I;
}

/** Reads a service's Info (name and version). */
export class FusionInfoAPIClient<I extends Info = Info> {
  readonly #client: FusionClient;
  readonly #infoClass: new (input: never) => I;

  constructor(options: FusionInfoAPIClientOptions<I>) {
    if (!options?.client) throw new TypeError('FusionInfoAPIClient: client is required');
    this.#client = options.client;
    this.#infoClass = options.infoClass ?? (Info as unknown as new (input: never) => I);
  }

  /** GET /api/info. */
  info(): Promise<I> {
    return this.#client.getConcept('/api/info', this.#infoClass);
  }
}
