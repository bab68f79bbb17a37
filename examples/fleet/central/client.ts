/** The central service's typed client (edf_fusion's IronClient): its own routes; its cases through FusionCaseAPIClient. */
import type { FusionClient } from '../../../src/client/client.js';
import { Case } from '../../../src/concept/index.js';

/** A service the central service manages. */
export interface ServiceInfo {
  name: string;
  url: string;
}

/** A class a service's case decodes with (Case, or the service's subclass). */
export interface CaseClassLike<C extends Case> {
  fromJSON(data: unknown): C;
}

/** Calls GET /api/services and the /api/service/:service/... routes; cases decode with the class given. */
export class CentralClient {
  readonly #client: FusionClient;

  constructor(options: { client: FusionClient }) {
    if (!options?.client) throw new TypeError('CentralClient: client is required');
    this.#client = options.client;
  }

  /** GET /api/services. */
  enumerateServices(): Promise<ServiceInfo[]> {
    return this.#client.get<ServiceInfo[]>('/api/services');
  }

  /** GET /api/service/:service/cases: the service's unmanaged cases the caller may access. */
  async enumerateServiceCases<C extends Case = Case>(service: string, caseClass: CaseClassLike<C> = Case as unknown as CaseClassLike<C>): Promise<C[]> {
    const data = await this.#client.get<unknown[]>(`/api/service/${encodeURIComponent(service)}/cases`);
    return data.map((item) => caseClass.fromJSON(item));
  }

  /** POST /api/service/:service/case/:case_guid: creates or updates the central case in the service. */
  async syncServiceCase<C extends Case = Case>(service: string, caseGuid: string, caseClass: CaseClassLike<C> = Case as unknown as CaseClassLike<C>): Promise<C> {
    return caseClass.fromJSON(await this.#client.post(`/api/service/${encodeURIComponent(service)}/case/${caseGuid}`));
  }

  /** GET /api/service/:service/case/:case_guid: the service's copy of a central case. */
  async probeServiceCase<C extends Case = Case>(service: string, caseGuid: string, caseClass: CaseClassLike<C> = Case as unknown as CaseClassLike<C>): Promise<C> {
    return caseClass.fromJSON(await this.#client.get(`/api/service/${encodeURIComponent(service)}/case/${caseGuid}`));
  }

  /** PUT /api/service/:service/case/:service_case_guid/attach/:case_guid: the service's case re-keyed to the central case, managed. */
  async attachServiceCase<C extends Case = Case>(
    service: string,
    serviceCaseGuid: string,
    caseGuid: string,
    caseClass: CaseClassLike<C> = Case as unknown as CaseClassLike<C>,
  ): Promise<C> {
    return caseClass.fromJSON(await this.#client.put(`/api/service/${encodeURIComponent(service)}/case/${serviceCaseGuid}/attach/${caseGuid}`));
  }
}
