/**
 * One managed service as the central service reaches it: its URL and the API key it knows the
 * central service by. Cases travel as plain JSON, so a service's own fields (an IncidentCase's
 * risk_score) survive the trip; a service's 4xx answers come back as the same 4xx.
 */
import { FusionClient } from '../../../src/client/client.js';
import type { FusionRequestOptions } from '../../../src/client/client.js';
import { isFusionClientError } from '../../../src/client/errors.js';
import { FUSION_ERRORS, FusionError, isFusionError } from '../../../src/helper/errors.js';
import type { FusionErrorCode } from '../../../src/helper/errors.js';

/** A case in its wire form, as a service answers it. */
export type CaseDocument = { guid: string; managed: boolean; name: string } & Record<string, unknown>;

/** One entry of the `central.services` config list. */
export interface ServiceSettings {
  name: string;
  url: string;
  apiKey: string;
}

/** A managed service and its client. */
export class ServiceConnector {
  readonly name: string;
  readonly url: string;
  readonly #client: FusionClient;

  constructor(settings: ServiceSettings) {
    this.name = settings.name;
    this.url = settings.url;
    this.#client = new FusionClient({ baseUrl: settings.url, apiKey: settings.apiKey });
  }

  /** Every case of the service. */
  enumerateCases(): Promise<CaseDocument[]> {
    return this.#call('GET', '/api/cases');
  }

  /** The service's case, or null when it has none with this guid. */
  async retrieveCase(guid: string): Promise<CaseDocument | null> {
    try {
      return await this.#call<CaseDocument>('GET', `/api/case/${guid}`);
    } catch (error) {
      if (isFusionError(error) && error.status === 404) return null;
      throw error;
    }
  }

  /** Creates the case there (managed: the central service's key creates it). */
  createCase(document: Record<string, unknown>): Promise<CaseDocument> {
    return this.#call('POST', '/api/case', { body: document });
  }

  /** Updates the case there with the keys given. */
  updateCase(guid: string, patch: Record<string, unknown>): Promise<CaseDocument> {
    return this.#call('PUT', `/api/case/${guid}`, { body: patch });
  }

  /** Re-keys the service's case `guid` to `nextGuid` and marks it managed. */
  attachCase(guid: string, nextGuid: string): Promise<CaseDocument> {
    return this.#call('PUT', `/api/case/${guid}/attach/${nextGuid}`);
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  async #call<T>(method: 'GET' | 'POST' | 'PUT', path: string, options?: FusionRequestOptions): Promise<T> {
    try {
      return await this.#client.request<T>(method, path, options);
    } catch (error) {
      if (!isFusionClientError(error)) throw error;
      // 401/403 there is about the central service's key, not the caller's session: a 502 saying so.
      if (error.status === 401 || error.status === 403) {
        throw new FusionError('FUSION_ERR_CONNECTION', `${this.name} refused the central service's API key (check central.services '${this.name}' api_key)`);
      }
      // The service refused the request (other 4xx): the caller gets the same answer; it failed (5xx, unreachable): 502.
      const code = (error.code in FUSION_ERRORS ? error.code : 'FUSION_ERR_BAD_REQUEST') as FusionErrorCode;
      if (error.status >= 400 && error.status < 500) throw new FusionError(code, `${this.name}: ${error.message}`, { status: error.status });
      throw new FusionError('FUSION_ERR_CONNECTION', `${this.name} did not answer ${method} ${path}: ${error.message}`, { cause: error });
    }
  }
}
