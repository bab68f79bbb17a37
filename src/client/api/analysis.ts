/** Client twin of FusionAnalysisAPI: queue analyses of a case, read them and their logs, list the analyzers. */
import { Analysis, AnalyzerInfo } from '../../concept/index.js';
import type { AnalysisPriority } from '../../concept/index.js';
import { listPages } from '../list-pages.js';
import type { PageOptions } from '../list-pages.js';
import type { FusionClient } from '../client.js';

function segment(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`FusionAnalysisAPIClient: ${name} must be a non-empty string`);
  return encodeURIComponent(value);
}

/** Calls the analysis routes; failures are FusionClientErrors. */
export class FusionAnalysisAPIClient {
  readonly #client: FusionClient;

  constructor(options: { client: FusionClient }) {
    if (!options?.client) throw new TypeError('FusionAnalysisAPIClient: client is required');
    this.#client = options.client;
  }

  /** GET /api/config/analyzers: the enabled analyzers. */
  enumerateAnalyzers(): Promise<AnalyzerInfo[]> {
    return this.#client.getConceptList('/api/config/analyzers', AnalyzerInfo);
  }

  /** GET /api/config/analyzers page by page (by name). */
  analyzerPages(options: PageOptions = {}): AsyncGenerator<AnalyzerInfo[], void, undefined> {
    return listPages(this.#client, '/api/config/analyzers', (item) => AnalyzerInfo.fromJSON(item), 'FusionAnalysisAPIClient.analyzerPages', options);
  }

  /** GET /api/case/:case_guid/analyses page by page (by analyzer name). */
  analysisPages(caseGuid: string, options: PageOptions = {}): AsyncGenerator<Analysis[], void, undefined> {
    return listPages(this.#client, `/api/case/${segment('caseGuid', caseGuid)}/analyses`, (item) => Analysis.fromJSON(item), 'FusionAnalysisAPIClient.analysisPages', options);
  }

  /** GET /api/case/:case_guid/analyses. */
  enumerateAnalyses(caseGuid: string): Promise<Analysis[]> {
    return this.#client.getConceptList(`/api/case/${segment('caseGuid', caseGuid)}/analyses`, Analysis);
  }

  /** GET /api/case/:case_guid/analysis/:analyzer. */
  retrieveAnalysis(caseGuid: string, analyzer: string): Promise<Analysis> {
    return this.#client.getConcept(`/api/case/${segment('caseGuid', caseGuid)}/analysis/${segment('analyzer', analyzer)}`, Analysis);
  }

  /** PUT /api/case/:case_guid/analysis/:analyzer: queues it (again, once finished); returns it queued. */
  queueAnalysis(caseGuid: string, analyzer: string, options: { priority?: AnalysisPriority } = {}): Promise<Analysis> {
    const path = `/api/case/${segment('caseGuid', caseGuid)}/analysis/${segment('analyzer', analyzer)}`;
    return this.#client.requestConcept('PUT', path, Analysis, { body: options.priority === undefined ? {} : { priority: options.priority } });
  }

  /** GET /api/case/:case_guid/analysis/:analyzer/log: the log as text ('' before the analysis started). */
  async retrieveLog(caseGuid: string, analyzer: string): Promise<string> {
    const response = await this.#client.requestRaw('GET', `/api/case/${segment('caseGuid', caseGuid)}/analysis/${segment('analyzer', analyzer)}/log`);
    return response.body.text();
  }
}
