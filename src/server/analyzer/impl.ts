/**
 * FusionAnalysisAPI: queue analyses of a case and read them and their logs; list the
 * registered analyzers. The work itself runs in `fusion analyzer NAME` processes
 * (FusionAnalyzerPool), which may be this process too.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { Analysis, AnalysisPriority, AnalyzerInfo } from '../../concept/index.js';
import type { Case } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import { keyedListAnswer, PAGE_QUERY } from '../list-paging.js';
import type { FusionHost } from '../host.js';
import { acquireBoss } from '../task/boss.js';
import type { BossLease } from '../task/boss.js';
import { ensureQueue } from '../task/boss.js';
import { analysisOf, listAnalyses, readAnalysisRow } from './analysis-rows.js';
import { registerAnalysisSeries } from './analysis-series.js';
import type { FusionAnalyzer } from './analyzer.js';
import { defineAnalyzer } from './analyzer.js';
import { analyzerSettings, readAnalyzersConfig } from './config.js';
import type { FusionAnalyzersConfig } from './config.js';
import { analysisPaths } from './context.js';
import { jobExpiry } from './pool.js';
import { analyzerQueue, queueAnalysis } from './queue.js';

/** Body of PUT /api/case/:case_guid/analysis/:analyzer. */
export interface QueueAnalysisBody {
  /** Priority (default: medium, or the analysis's previous one). */
  priority?: AnalysisPriority;
}

const ANALYSIS_SCHEMA = Analysis.jsonSchema();
/** What a route naming an analyzer answers for a name that is not enabled, or an analysis not queued yet. */
const ANALYSIS_ERRORS = ['FUSION_ERR_ANALYZER_UNKNOWN', 'FUSION_ERR_ANALYSIS_NOT_FOUND'] as const;

/** The analysis routes (see the file comment). */
export class FusionAnalysisAPI extends FusionAPI {
  /** The API name. */
  readonly name: string = 'analysis';
  readonly #analyzers = new Map<string, FusionAnalyzer>();
  /** pg-boss queues created (or being created), by queue name. */
  readonly #queues = new Map<string, Promise<void>>();
  #config: FusionAnalyzersConfig | null = null;
  #host: FusionHost | null = null;
  #lease: BossLease | null = null;

  constructor(analyzers: readonly FusionAnalyzer[] = []) {
    super();
    this.register(...analyzers);
  }

  /** Adds analyzers (any time); a name registered twice is refused. */
  register(...analyzers: FusionAnalyzer[]): this {
    for (const analyzer of analyzers) {
      defineAnalyzer(analyzer);
      if (this.#analyzers.has(analyzer.info.name)) throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer ${analyzer.info.name} is registered already`);
      this.#analyzers.set(analyzer.info.name, analyzer);
      if (this.#lease) void this.#ensureQueue(analyzer.info.name).catch(() => undefined); // queue() awaits it again and reports the error
    }
    return this;
  }

  /** The registered analyzers. */
  get analyzers(): readonly FusionAnalyzer[] {
    return [...this.#analyzers.values()];
  }

  /** The parsed `analyzers` section (after setup). */
  get config(): FusionAnalyzersConfig {
    if (!this.#config) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the analysis API is not set up yet');
    return this.#config;
  }

  /** Adds the routes and the queue-depth gauge. */
  setup(app: FastifyInstance, host: FusionHost): void {
    this.#config = readAnalyzersConfig(host.config);
    this.#host = host;
    registerAnalysisSeries(host, () => this.analyzers.map((analyzer) => analyzer.info.name));
    const params = ['case_guid'] as const;
    host.route(
      app,
      { method: 'GET', url: '/api/config/analyzers', operation: 'enumerate_analyzers', query: PAGE_QUERY, response: { type: 'array', items: AnalyzerInfo.jsonSchema() }, summary: 'The enabled analyzers' },
      (ctx) => keyedListAnswer(ctx.query, ctx.reply, async () => this.#enabled().map((analyzer) => analyzer.info), (info) => info.name),
    );
    host.route(
      app,
      { method: 'GET', url: '/api/case/:case_guid/analyses', operation: 'enumerate_analyses', params, query: PAGE_QUERY, response: { type: 'array', items: ANALYSIS_SCHEMA }, summary: 'The analyses of a case' },
      (ctx) => keyedListAnswer(ctx.query, ctx.reply, () => listAnalyses(host.storage.knex, ctx.case!.guid), (analysis) => analysis.analyzer),
    );
    host.route(
      app,
      { method: 'GET', url: '/api/case/:case_guid/analysis/:analyzer', operation: 'retrieve_analysis', params, response: ANALYSIS_SCHEMA, errors: ANALYSIS_ERRORS, summary: 'One analysis of a case' },
      async (ctx) => analysisOf(await this.#row(ctx.case!, ctx.params.analyzer!)),
    );
    host.route<QueueAnalysisBody, unknown, typeof params>(
      app,
      {
        method: 'PUT',
        url: '/api/case/:case_guid/analysis/:analyzer',
        operation: 'queue_analysis',
        params,
        caseOpenCheck: true,
        body: { type: 'object', properties: { priority: { type: 'string', enum: Object.values(AnalysisPriority) } }, additionalProperties: false },
        response: ANALYSIS_SCHEMA,
        errors: [...ANALYSIS_ERRORS, 'FUSION_ERR_ANALYSIS_TRANSITION'],
        summary: 'Queue an analysis of a case (again, once finished)',
        description: 'A new analysis, or a finished one queued again; 409 FUSION_ERR_ANALYSIS_TRANSITION while it is queued or running.',
      },
      (ctx) => this.queue(ctx.case!, ctx.params.analyzer!, ctx.body?.priority === undefined ? {} : { priority: ctx.body.priority }),
    );
    host.route(
      app,
      { method: 'GET', url: '/api/case/:case_guid/analysis/:analyzer/log', operation: 'retrieve_analysis_log', params, errors: ANALYSIS_ERRORS, produces: 'text/plain', summary: 'The log of an analysis (text/plain)' },
      async (ctx) => {
        const row = await this.#row(ctx.case!, ctx.params.analyzer!);
        const { logFile } = analysisPaths(this.config.directory, row.case_guid, row.analyzer);
        let text = '';
        try {
          text = await readFile(logFile, 'utf8');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
        return ctx.reply.type('text/plain; charset=utf-8').send(text);
      },
    );
  }

  /**
   * Starts pg-boss on the server's storage (the table comes with the migrations) and creates the
   * queues of the enabled analyzers now: queue() inside a caller's transaction must not need a
   * connection of its own (PGlite has one, held by that transaction).
   */
  override async start(host: FusionHost): Promise<void> {
    this.#lease = await acquireBoss(host.storage, { logger: host.logger });
    for (const analyzer of this.#enabled()) await this.#ensureQueue(analyzer.info.name); // one at a time: each adds a partition to pg-boss's job table
  }

  /** Stops pg-boss (its timers). */
  override async close(): Promise<void> {
    await Promise.allSettled(this.#queues.values());
    this.#queues.clear();
    await this.#lease?.release();
    this.#lease = null;
  }

  /**
   * Queues analyzer `name` on `caseObj` (FUSION_ERR_ANALYZER_UNKNOWN when no enabled analyzer
   * has that name); with `trx`, inside that transaction (nothing exists if it rolls back).
   */
  async queue(caseObj: Case, name: string, options: { priority?: AnalysisPriority; trx?: Knex.Transaction } = {}): Promise<Analysis> {
    const analyzer = this.#enabled().find((candidate) => candidate.info.name === name);
    if (!analyzer) throw unknownAnalyzer(name, this.#enabled());
    if (!this.#lease || !this.#host) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the analysis API is not started');
    await this.#ensureQueue(name);
    return queueAnalysis(this.#host, this.#lease.boss, caseObj, name, { ...options, expireInSeconds: jobExpiry(analyzerSettings(this.config, name), this.config) });
  }

  /** Creates the pg-boss queue of analyzer `name` once per API (a failed attempt is retried by the next call). */
  #ensureQueue(name: string): Promise<void> {
    const queue = analyzerQueue(name);
    let ready = this.#queues.get(queue);
    if (!ready) {
      ready = ensureQueue(this.#lease!.boss, queue).catch((error: unknown) => {
        this.#queues.delete(queue);
        throw error;
      });
      this.#queues.set(queue, ready);
    }
    return ready;
  }

  #enabled(): FusionAnalyzer[] {
    return [...this.#analyzers.values()].filter((analyzer) => analyzerSettings(this.config, analyzer.info.name).enabled);
  }

  async #row(caseObj: Case, name: string): Promise<NonNullable<Awaited<ReturnType<typeof readAnalysisRow>>>> {
    if (!this.#analyzers.has(name)) throw unknownAnalyzer(name, this.#enabled());
    const row = await readAnalysisRow(this.#host!.storage.knex, caseObj.guid, name);
    if (!row) throw new FusionError('FUSION_ERR_ANALYSIS_NOT_FOUND', `case ${caseObj.guid} has no ${name} analysis: queue it with PUT /api/case/${caseObj.guid}/analysis/${name}`);
    return row;
  }
}

function unknownAnalyzer(name: string, enabled: readonly FusionAnalyzer[]): FusionError {
  const names = enabled.map((analyzer) => analyzer.info.name);
  return new FusionError('FUSION_ERR_ANALYZER_UNKNOWN', `no analyzer named ${JSON.stringify(name)}; enabled analyzers: ${names.join(', ') || 'none'}`);
}
