/** FusionAnalyzer: what a service implements to analyze cases (its AnalyzerInfo and its `process` hook). */
import type { Analysis, AnalyzerInfo, Case } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { RunSubprocessOptions, SubprocessResult } from '../../helper/subprocess.js';
import type { FusionStorage } from '../storage/storage.js';

/** What `extract` and `process` receive for one analysis. */
export interface AnalysisContext {
  /** The case analyzed (null if it was deleted meanwhile). */
  readonly case: Case | null;
  /** Aborts on timeout or when the worker stops: give up quickly. */
  readonly signal: AbortSignal;
  /** The service's own config sections (`config.extra`, parsed by its module's `sections`). */
  readonly extra: Readonly<Record<string, unknown>>;
  /** The storage the service shares. */
  readonly storage: FusionStorage;
  /** The worker's logger (the per-analysis log is `log`). */
  readonly logger: FusionLogger;
  /** This analysis's directory (`<analyzers.directory>/<case_guid>/<analyzer>`). */
  readonly directory: string;
  /** Put results here: zipped into `output.zip` when the analysis succeeds (emptied at each start). */
  readonly outputDirectory: string;
  /** Path of the per-analysis log file. */
  readonly logFile: string;
  /** Appends one line to the per-analysis log (with a timestamp). */
  log(line: string): Promise<void>;
  /**
   * Runs a command (no shell) through the subprocess helper, its output appended to the log;
   * the analysis's remaining time is its timeout. Throws FUSION_ERR_SUBPROCESS on a non-zero
   * exit, FUSION_ERR_TIMEOUT when stopped for time.
   */
  run(argv: readonly string[], options?: Omit<RunSubprocessOptions, 'signal' | 'timeout' | 'stdio'>): Promise<SubprocessResult>;
}

/** An analyzer: its description and its work. */
export interface FusionAnalyzer {
  /** Name (used in routes, queues and config: letters, digits, `_`, `-`), version, tags. */
  readonly info: AnalyzerInfo;
  /** Optional first step (status `extracting`): fetch or unpack what `process` needs. */
  extract?(analysis: Analysis, context: AnalysisContext): Promise<void>;
  /** The work (status `processing`); throwing fails the analysis with the error's message. */
  process(analysis: Analysis, context: AnalysisContext): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks an analyzer (throws FUSION_ERR_TASK_INVALID naming the problem) and returns it. */
export function defineAnalyzer<A extends FusionAnalyzer>(analyzer: A): A {
  const name = analyzer?.info?.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer name ${JSON.stringify(name ?? null)}: use 1-64 letters, digits, _ or - (it names routes and queues)`);
  }
  if (typeof analyzer.process !== 'function') throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer ${name}: process(analysis, context) must be a function`);
  if (analyzer.extract !== undefined && typeof analyzer.extract !== 'function') throw new FusionError('FUSION_ERR_TASK_INVALID', `analyzer ${name}: extract must be a function`);
  return analyzer;
}
