/**
 * FusionAnalyzerPool: the workers of one analyzer in one process (`fusion analyzer NAME`).
 * Each worker fetches the next job from the analyzer's pg-boss queue (priority, then age,
 * `SKIP LOCKED`), claims its analysis (queued → extracting, only for the job the row names,
 * so an analysis never runs twice; on to processing at once without an extract step),
 * keeps a lease on it while it runs, ends it with success or failure (timeout included), each
 * step one compare-and-set statement with its event, the last one committed with the job's
 * completion. Analyses whose lease ran
 * out (their worker died) go back to pending and are queued again, or fail once they used
 * their retries: at start and every lease period, by whichever process looks first.
 */
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { Knex } from 'knex';
import type PgBoss from 'pg-boss';
import type { Analysis, AnalysisStatus, Case } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { createZip } from '../../helper/zip.js';
import { acquireBoss, bossDatabase, bossSchema, ensureQueue } from '../task/boss.js';
import type { BossLease } from '../task/boss.js';
import { systemClock } from '../task/clock.js';
import { ANALYSIS_TABLE, analysisOf, applyTransition, readAnalysisRow, transitionIf } from './analysis-rows.js';
import type { AnalysisHost, AnalysisRow } from './analysis-rows.js';
import type { FusionAnalyzer } from './analyzer.js';
import { defineAnalyzer } from './analyzer.js';
import { withAnalysisSpan } from './analysis-telemetry.js';
import type { AnalysisRunOutcome } from './analysis-telemetry.js';
import { analyzerSettings } from './config.js';
import type { AnalyzerSettings, FusionAnalyzersConfig } from './config.js';
import { createAnalysisContext } from './context.js';
import { analyzerQueue, requeueRow } from './queue.js';
import type { AnalysisJob } from './queue.js';

/** Options of FusionAnalyzerPool. */
export interface AnalyzerPoolOptions {
  /** The server the pool works for (storage, event notifier, case loader, logger); a started FusionServer fits. */
  readonly host: AnalysisHost & { readonly instanceId?: string; readonly config?: { readonly extra: Readonly<Record<string, unknown>> } };
  /** The analyzer. */
  readonly analyzer: FusionAnalyzer;
  /** The parsed `analyzers` section (readAnalyzersConfig). */
  readonly config: FusionAnalyzersConfig;
  /** Replaces the configured `workers`. */
  readonly workers?: number;
}

/** What the pool reports (logs, metrics, tests). */
export interface AnalyzerPoolEvents {
  /** A worker claimed an analysis and starts it. */
  claimed: [caseGuid: string];
  /** An analysis ended (success or failure). */
  finished: [analysis: Analysis];
  /** Recovery requeued or failed analyses whose worker was lost. */
  recovered: [requeued: number, failed: number];
}

/** Seconds pg-boss keeps a fetched job before giving it up: timeout plus a lease. */
export function jobExpiry(settings: AnalyzerSettings, config: FusionAnalyzersConfig): number {
  return settings.timeout + config.lease;
}

/** Runs one analyzer's workers (see the file comment). */
export class FusionAnalyzerPool extends EventEmitter<AnalyzerPoolEvents> {
  readonly #host: AnalyzerPoolOptions['host'];
  readonly #analyzer: FusionAnalyzer;
  readonly #config: FusionAnalyzersConfig;
  readonly #settings: AnalyzerSettings;
  readonly #workers: number;
  readonly #queue: string;
  readonly #owner: string;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #lease: BossLease | null = null;
  #recovery: NodeJS.Timeout | null = null;
  #recovering: Promise<unknown> = Promise.resolve();
  #state: 'idle' | 'started' | 'stopped' = 'idle';

  constructor(options: AnalyzerPoolOptions) {
    super();
    this.#host = options.host;
    this.#analyzer = defineAnalyzer(options.analyzer);
    this.#config = options.config;
    this.#settings = analyzerSettings(options.config, options.analyzer.info.name);
    this.#workers = options.workers ?? this.#settings.workers;
    if (!(Number.isInteger(this.#workers) && this.#workers >= 1)) throw new RangeError(`workers must be an integer >= 1, got ${String(options.workers)}`);
    this.#queue = analyzerQueue(options.analyzer.info.name);
    this.#owner = options.host.instanceId ?? `${process.pid}-${Math.random().toString(36).slice(2)}`;
  }

  /** The analyzer's name. */
  get name(): string {
    return this.#analyzer.info.name;
  }

  /** Recovers lost work, then starts the workers; refused for a disabled analyzer. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer pool ${this.name} was started already`);
    if (!this.#settings.enabled) throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer ${this.name} is disabled (analyzers.${this.name}.enabled: false)`);
    this.#state = 'started';
    const { storage } = this.#host;
    this.#lease = await acquireBoss(storage, { logger: this.#host.logger });
    await ensureQueue(this.#lease.boss, this.#queue);
    await this.recover();
    for (let i = 0; i < this.#workers; i++) this.#loops.push(this.#work(this.#lease.boss));
    this.#recovery = setInterval(() => {
      this.#recovering = this.recover().catch((error: unknown) => this.#host.logger.warn({ err: error, analyzer: this.name }, 'analysis recovery failed'));
    }, this.#config.lease * 1000);
    this.#recovery.unref();
  }

  /** Stops the workers: analyses in progress go back to pending and are queued again; idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#recovery) clearInterval(this.#recovery);
    this.#stop.abort(new FusionError('FUSION_ERR_UNAVAILABLE', `analyzer ${this.name} is stopping`));
    await Promise.allSettled(this.#loops);
    await this.#recovering;
    await this.#lease?.release();
  }

  /**
   * Queues again (or fails, past `retries`) the analyses of this analyzer whose worker is
   * gone: running with an expired lease, or queued with no live job. Returns the counts.
   */
  async recover(): Promise<{ requeued: number; failed: number }> {
    const { storage } = this.#host;
    const stale = await this.#staleRows(storage.knex);
    let requeued = 0;
    let failed = 0;
    for (const candidate of stale) {
      const caseObj = await this.#host.loadCase(candidate.case_guid);
      const outcome = await storage.transaction(async (tx) => {
        const trx = tx.knex as Knex.Transaction;
        const row = await readAnalysisRow(trx, candidate.case_guid, candidate.analyzer, true);
        if (!row || row.status !== candidate.status || row.job_id !== candidate.job_id || row.lease_until?.valueOf() !== candidate.lease_until?.valueOf()) return 'changed';
        if (row.status !== 'queued' && row.attempts > this.#settings.retries) {
          await applyTransition(this.#host, trx, caseObj, row, 'failure', {
            error: `interrupted: its worker was lost ${row.attempts} time(s) (analyzers.${this.name}.retries is ${this.#settings.retries})`,
            columns: { owner: null, lease_until: null },
          });
          return 'failed';
        }
        const pending = await applyTransition(this.#host, trx, caseObj, row, 'pending', { columns: { owner: null, lease_until: null } });
        await requeueRow(this.#host, this.#lease!.boss, trx, caseObj, pending, jobExpiry(this.#settings, this.#config));
        return 'requeued';
      });
      if (outcome === 'requeued') requeued++;
      if (outcome === 'failed') failed++;
    }
    if (requeued + failed > 0) {
      this.#host.logger.warn({ analyzer: this.name, requeued, failed }, 'recovered analyses of lost workers');
      this.emit('recovered', requeued, failed);
    }
    return { requeued, failed };
  }

  async #staleRows(knex: Knex): Promise<AnalysisRow[]> {
    const jobs = `${bossSchema(this.#host.storage)}.job`;
    const result = await knex.raw<{ rows: AnalysisRow[] }>(
      `SELECT a.* FROM ${ANALYSIS_TABLE} a
        WHERE a.analyzer = ? AND (
          (a.status IN ('extracting', 'processing') AND (a.lease_until IS NULL OR a.lease_until < ?))
          OR (a.status = 'queued' AND NOT EXISTS (SELECT 1 FROM ${jobs} j WHERE j.id = a.job_id AND j.state < 'completed'))
        )
        ORDER BY a.created`,
      [this.name, new Date()],
    );
    return result.rows;
  }

  async #work(boss: PgBoss): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      let job: PgBoss.Job<AnalysisJob> | undefined;
      try {
        [job] = await boss.fetch<AnalysisJob>(this.#queue, { batchSize: 1, priority: true });
      } catch (error) {
        if (stop.aborted) return;
        this.#host.logger.warn({ err: error, analyzer: this.name }, 'cannot fetch from the analysis queue');
      }
      if (!job) {
        await systemClock.sleep(this.#config.pollInterval * 1000, stop).catch(() => undefined);
        continue;
      }
      const completed = { done: false }; // the run's last transaction completes the job
      try {
        await this.#handle(job, completed);
      } catch (error) {
        this.#host.logger.error({ err: error, analyzer: this.name, job: job.id }, 'analysis bookkeeping failed (recovery will queue it again)');
      }
      if (!completed.done) await boss.complete(this.#queue, job.id).catch(() => undefined);
    }
  }

  /** Claims the analysis of `job` (queued → extracting) unless the job is stale, then runs it. */
  async #handle(job: PgBoss.Job<AnalysisJob>, completed: { done: boolean }): Promise<void> {
    const caseGuid = job.data.case_guid;
    const caseObj = await this.#host.loadCase(caseGuid);
    const leaseUntil = (): Date => new Date(Date.now() + this.#config.lease * 1000);
    // queued → extracting for the job the row names only (one compare-and-set statement); an
    // analyzer without an extract step goes on to processing in the same statement.
    const claimed = await transitionIf(this.#host, caseObj, { case_guid: caseGuid, analyzer: this.name }, 'queued', this.#analyzer.extract ? 'extracting' : 'processing', {
      where: { job_id: job.id },
      countAttempt: true,
      columns: { owner: this.#owner, lease_until: leaseUntil() },
      ...(this.#analyzer.extract ? {} : { via: 'extracting' as const }),
    });
    if (claimed === null) return; // a stale job: its analysis was queued again or recovered
    this.emit('claimed', caseGuid);
    await withAnalysisSpan(claimed, () => this.#run(claimed, caseObj, job.id, completed));
  }

  /** Runs a claimed analysis (lease kept alive, timeout enforced) and records how it ended. */
  async #run(claimed: AnalysisRow, caseObj: Case | null, jobId: string, completed: { done: boolean }): Promise<AnalysisRunOutcome> {
    const { storage, logger } = this.#host;
    const caseGuid = claimed.case_guid;
    const leaseUntil = (): Date => new Date(Date.now() + this.#config.lease * 1000);
    const heartbeat = setInterval(() => {
      void storage.knex(ANALYSIS_TABLE)
        .where({ case_guid: caseGuid, analyzer: this.name, owner: this.#owner })
        .whereIn('status', ['extracting', 'processing'])
        .update({ lease_until: leaseUntil() })
        .catch((error: unknown) => logger.warn({ err: error }, 'cannot renew an analysis lease'));
    }, (this.#config.lease * 1000) / 3);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new FusionError('FUSION_ERR_TIMEOUT', `analysis timed out after ${this.#settings.timeout} s (analyzers.${this.name}.timeout)`)),
      this.#settings.timeout * 1000,
    );
    const signal = AbortSignal.any([timeout.signal, this.#stop.signal]);
    let outcome: AnalysisRunOutcome;
    const context = await createAnalysisContext({
      root: this.#config.directory,
      caseObj,
      caseGuid,
      analyzer: this.name,
      signal,
      storage,
      logger,
      extra: this.#host.config?.extra ?? {},
      deadline: Date.now() + this.#settings.timeout * 1000,
    });
    await context.log(`analysis ${this.name} of case ${caseGuid}: attempt ${claimed.attempts} on ${this.#owner}`);
    const reached = { status: claimed.status };
    try {
      await Promise.race([this.#steps(claimed, caseObj, context, reached), rejectOnAbort(signal)]);
      outcome = { status: 'success' };
      await context.log('success');
    } catch (error) {
      if (this.#stop.signal.aborted && !timeout.signal.aborted) {
        outcome = { status: 'interrupted' };
        await context.log('interrupted: the worker is stopping, the analysis is queued again').catch(() => undefined);
      } else {
        const message = timeout.signal.aborted ? (timeout.signal.reason as Error).message : (error as Error)?.message || String(error);
        outcome = { status: 'failure', error: message };
        await context.log(`failure: ${message}`).catch(() => undefined);
      }
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
    }
    const release = { owner: null, lease_until: null };
    let ended: AnalysisRow | null = null;
    if (outcome.status === 'interrupted') {
      await storage.transaction(async (tx) => {
        const trx = tx.knex as Knex.Transaction;
        const row = await readAnalysisRow(trx, caseGuid, this.name, true);
        if (!row || row.owner !== this.#owner || !['extracting', 'processing'].includes(row.status)) return; // recovered meanwhile
        const pending = await applyTransition(this.#host, trx, caseObj, row, 'pending', { columns: { ...release, attempts: Math.max(0, row.attempts - 1) } });
        await requeueRow(this.#host, this.#lease!.boss, trx, caseObj, pending, jobExpiry(this.#settings, this.#config));
      });
    } else {
      // From the status this run set last, only while this worker still owns the row (else it was
      // recovered meanwhile); the job is completed in the same transaction: one commit for both.
      ended = await storage.transaction(async (tx) => {
        const trx = tx.knex as Knex.Transaction;
        const row = await transitionIf(this.#host, caseObj, { case_guid: caseGuid, analyzer: this.name }, reached.status, outcome.status, {
          where: { owner: this.#owner },
          ...(outcome.status === 'failure' ? { error: outcome.error } : {}),
          columns: release,
          trx,
        });
        await this.#lease!.boss.complete(this.#queue, jobId, {}, { db: bossDatabase(trx) });
        return row;
      });
      completed.done = true;
    }
    if (ended) this.emit('finished', analysisOf(ended));
    return outcome;
  }

  /** extract (optional), → processing, process, then the output zipped. */
  async #steps(row: AnalysisRow, caseObj: Case | null, context: Awaited<ReturnType<typeof createAnalysisContext>>, reached: { status: AnalysisStatus }): Promise<void> {
    const analysis = analysisOf(row);
    if (this.#analyzer.extract) await this.#analyzer.extract(analysis, context);
    context.signal.throwIfAborted();
    const processing = row.status === 'processing' ? row : await transitionIf(this.#host, caseObj, row, 'extracting', 'processing', { where: { owner: this.#owner } });
    if (processing === null) throw new FusionError('FUSION_ERR_ANALYSIS_TRANSITION', 'the analysis was taken back (lease expired)');
    reached.status = 'processing';
    await this.#analyzer.process(analysisOf(processing), context);
    context.signal.throwIfAborted();
    if ((await readdir(context.outputDirectory)).length > 0) {
      await createZip(`${context.directory}/output.zip`, context.outputDirectory, {}, { signal: context.signal });
    }
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
