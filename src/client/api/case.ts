/** Client twin of FusionCaseAPI: list, create, read, update, delete and attach cases. */
import { Case, Concept } from '../../concept/index.js';
import { collectPages, listPages } from '../list-pages.js';
import type { PageOptions } from '../list-pages.js';
import type { FusionClient } from '../client.js';

/** The wire form of a case of class C (what `c.toJSON()` returns). */
export type CaseWire<C extends Case> = ReturnType<C['toJSON']>;

/** A new case as sent: a case instance, or its wire form with at least `name` (the server fills the defaults). */
export type CaseCreateInput<C extends Case> = C | (Partial<CaseWire<C>> & { name: string });

/** An update as sent: a partial wire form, or a whole case (readonly keys then carry their current values). */
export type CasePatch<C extends Case> = C | Partial<CaseWire<C>>;

/** Options of FusionCaseAPIClient. */
export interface FusionCaseAPIClientOptions<C extends Case = Case> {
  client: FusionClient;
  /** Concept class to decode with (the service's Case subclass, e.g. TimelineCase); default Case. */
  caseClass?: new (input: never) => C;
}

function segment(name: string, guid: unknown): string {
  if (typeof guid !== 'string' || guid === '') throw new TypeError(`FusionCaseAPIClient: ${name} must be a non-empty string (a case guid)`);
  return encodeURIComponent(guid);
}

function wireOf(value: unknown, what: string): Record<string, unknown> {
  if (value instanceof Concept) return value.toJSON();
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new TypeError(`FusionCaseAPIClient: ${what} must be a case or a plain object`);
}

/** Calls the case routes; every answer is decoded with `caseClass`, every failure is a FusionClientError. */
export class FusionCaseAPIClient<C extends Case = Case> {
  readonly #client: FusionClient;
  readonly #caseClass: new (input: never) => C;

  constructor(options: FusionCaseAPIClientOptions<C>) {
    if (!options?.client) throw new TypeError('FusionCaseAPIClient: client is required');
    if (options.caseClass !== undefined && typeof options.caseClass !== 'function') {
      throw new TypeError('FusionCaseAPIClient: caseClass must be Case or a subclass');
    }
    this.#client = options.client;
    this.#caseClass = options.caseClass ?? (Case as unknown as new (input: never) => C);
  }

  /** GET /api/cases: the cases the caller may access. */
  enumerateCases(): Promise<C[]> {
    return this.#client.getConceptList('/api/cases', this.#caseClass);
  }

  /**
   * GET /api/cases page by page (`?limit=&cursor=`): yields each page of cases, `limit` per
   * request (1 to 1000, default 1000), until the server's `next` is null.
   */
  pages(options: PageOptions = {}): AsyncGenerator<C[], void, undefined> {
    const decode = (this.#caseClass as unknown as { fromJSON(data: unknown): C }).fromJSON.bind(this.#caseClass);
    return listPages(this.#client, '/api/cases', decode, 'FusionCaseAPIClient.pages', options);
  }

  /** Every case the caller may access, fetched page by page (see pages()): no single huge answer. */
  enumerate(options: PageOptions = {}): Promise<C[]> {
    return collectPages(this.pages(options));
  }

  /** POST /api/case: creates a case; returns it as stored (guid, created, managed set by the server when omitted). */
  createCase(input: CaseCreateInput<C>): Promise<C> {
    return this.#client.requestConcept('POST', '/api/case', this.#caseClass, { body: wireOf(input, 'input') });
  }

  /** GET /api/case/:case_guid. */
  retrieveCase(caseGuid: string): Promise<C> {
    return this.#client.getConcept(`/api/case/${segment('caseGuid', caseGuid)}`, this.#caseClass);
  }

  /** PUT /api/case/:case_guid with a partial case (or a whole one); returns the updated case. */
  updateCase(caseGuid: string, patch: CasePatch<C>): Promise<C> {
    return this.#client.requestConcept('PUT', `/api/case/${segment('caseGuid', caseGuid)}`, this.#caseClass, { body: wireOf(patch, 'patch') });
  }

  /** PUT /api/case/:case_guid with `{closed: now}`: a closed case refuses further updates. */
  closeCase(caseGuid: string, closed: Date = new Date()): Promise<C> {
    return this.updateCase(caseGuid, { closed: closed.toISOString() } as unknown as Partial<CaseWire<C>>);
  }

  /** DELETE /api/case/:case_guid (needs a name in the server's auth.can_delete_acs). */
  async deleteCase(caseGuid: string): Promise<void> {
    await this.#client.delete(`/api/case/${segment('caseGuid', caseGuid)}`);
  }

  /** PUT /api/case/:case_guid/attach/:next_case_guid (API-key clients only): the case re-keyed and managed. */
  attachCase(caseGuid: string, nextCaseGuid: string): Promise<C> {
    const path = `/api/case/${segment('caseGuid', caseGuid)}/attach/${segment('nextCaseGuid', nextCaseGuid)}`;
    return this.#client.requestConcept('PUT', path, this.#caseClass);
  }
}
