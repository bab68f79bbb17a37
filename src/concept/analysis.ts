/** Analysis enums, as string values on the wire (use with `field.enumOf`). */

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
