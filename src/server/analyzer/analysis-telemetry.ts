/**
 * Telemetry of analyses: a `fusion.analysis.run` span per claimed analysis, child of the trace
 * stored with the row (the request that queued it, whichever process runs it), ended with its
 * outcome; the analyzer's own spans (subprocesses, storage queries) nest under it.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { deserializeTraceContext, withSpan } from '../../helper/telemetry.js';
import type { AnalysisRow } from './analysis-rows.js';

/** How a run ended, as the span records it. */
export type AnalysisRunOutcome = { status: 'success' } | { status: 'failure'; error: string } | { status: 'interrupted' };

/** Runs `work` (one claimed analysis) inside its span and records the outcome `work` resolves to. */
export function withAnalysisSpan<T extends AnalysisRunOutcome>(row: AnalysisRow, work: (span: Span) => Promise<T>): Promise<T> {
  const attributes = { 'fusion.analyzer': row.analyzer, 'fusion.case.guid': row.case_guid, 'fusion.analysis.attempt': row.attempts };
  return withSpan(
    'fusion.analysis.run',
    attributes,
    async (span) => {
      const outcome = await work(span);
      span.setAttribute('fusion.analysis.outcome', outcome.status);
      if (outcome.status === 'failure') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
      return outcome;
    },
    { kind: SpanKind.CONSUMER, parent: deserializeTraceContext(row.trace_context, ROOT_CONTEXT) },
  );
}
