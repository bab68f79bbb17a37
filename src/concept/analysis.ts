/** Analysis: one analyzer's work on one case, its status machine and the enums edf_fusion puts on the wire. */
import { utcNow } from '../helper/datetime.js';
import { defineConcept } from './concept.js';
import { ConceptError } from './concept-error.js';
import { field } from './field.js';

/** Lifecycle status of an analysis. */
export const AnalysisStatus = {
  PENDING: 'pending',
  QUEUED: 'queued',
  EXTRACTING: 'extracting',
  PROCESSING: 'processing',
  SUCCESS: 'success',
  FAILURE: 'failure',
} as const;

/** One of the AnalysisStatus values. */
export type AnalysisStatus = (typeof AnalysisStatus)[keyof typeof AnalysisStatus];

/** Scheduling priority of an analysis. */
export const AnalysisPriority = {
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
} as const;

/** One of the AnalysisPriority values. */
export type AnalysisPriority = (typeof AnalysisPriority)[keyof typeof AnalysisPriority];

/**
 * The legal moves: forward along pending → queued → extracting → processing → success |
 * failure (a step may fail), and back to pending when work is found interrupted or a finished
 * analysis is queued again.
 */
export const ANALYSIS_TRANSITIONS: Readonly<Record<AnalysisStatus, readonly AnalysisStatus[]>> = Object.freeze({
  pending: ['queued'],
  queued: ['extracting', 'failure', 'pending'],
  extracting: ['processing', 'failure', 'pending'],
  processing: ['success', 'failure', 'pending'],
  success: ['pending'],
  failure: ['pending'],
});

/** True when an analysis may move from `from` to `to`. */
export function isLegalTransition(from: AnalysisStatus, to: AnalysisStatus): boolean {
  return ANALYSIS_TRANSITIONS[from]?.includes(to) ?? false;
}

/** An analysis: which analyzer works on which case, its status, priority, timestamps and error. */
export class Analysis extends defineConcept('Analysis', {
  case_guid: field.uuid().readonly(),
  analyzer: field.string({ minLength: 1 }).readonly(),
  status: field.enumOf(AnalysisStatus).default(AnalysisStatus.PENDING),
  priority: field.enumOf(AnalysisPriority).default(AnalysisPriority.MEDIUM),
  created: field.datetime().readonly().default(utcNow),
  updated: field.datetime().optional(),
  started: field.datetime().optional(),
  finished: field.datetime().optional(),
  error: field.string().optional(),
}) {
  /**
   * Moves to `status` (refused with FUSION_ERR_ANALYSIS_TRANSITION, 409, when the move is not
   * in ANALYSIS_TRANSITIONS), stamping `updated`, `started` on extracting, `finished` on
   * success or failure, and clearing both when it goes back to pending.
   */
  transition(status: AnalysisStatus, error: string | null = null): this {
    if (!isLegalTransition(this.status, status)) {
      throw new ConceptError({
        conceptName: 'Analysis',
        code: 'FUSION_ERR_ANALYSIS_TRANSITION',
        status: 409,
        detail: `analysis ${this.analyzer} of case ${this.case_guid} cannot go from ${this.status} to ${status} (allowed: ${ANALYSIS_TRANSITIONS[this.status].join(', ') || 'none'})`,
      });
    }
    const now = utcNow();
    this.status = status;
    this.updated = now;
    if (status === 'pending') {
      this.started = null;
      this.finished = null;
      this.error = null;
    }
    if (status === 'extracting') this.started = now;
    if (status === 'success' || status === 'failure') this.finished = now;
    if (status === 'failure') this.error = error ?? 'failed';
    return this;
  }
}
