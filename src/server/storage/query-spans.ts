/**
 * A span per storage query, from knex's query events: `db.query` with the SQL text (never the
 * bindings: they hold case data), child of the span active when the query was sent. Queries
 * sent with no recording span active (the webhook worker polling, presence heartbeats) get
 * none, so a registered SDK is not flooded with one-query traces.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { fusionTracer, recordSpanError } from '../../helper/telemetry.js';

/** What knex passes to its `query` event (the fields used here). */
interface QueryEventData {
  __knexQueryUid?: string;
  method?: string;
  sql?: string;
}

const traced = new WeakSet<Knex>();

/** Starts tracing the queries of `knex` (once per instance: later calls do nothing). */
export function traceStorageQueries(knex: Knex, system: 'postgresql' = 'postgresql'): void {
  if (traced.has(knex)) return;
  traced.add(knex);
  const open = new Map<string, Span>();
  knex.on('query', (data: QueryEventData) => {
    const parent = trace.getSpan(context.active());
    if (parent === undefined || !parent.isRecording() || data.__knexQueryUid === undefined) return;
    const operation = data.method ?? 'query';
    const span = fusionTracer().startSpan(`db.${operation}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': system, 'db.operation.name': operation, 'db.query.text': data.sql ?? '' },
    });
    open.set(data.__knexQueryUid, span);
  });
  knex.on('query-response', (_response: unknown, data: QueryEventData) => {
    endSpan(open, data);
  });
  knex.on('query-error', (error: unknown, data: QueryEventData) => {
    endSpan(open, data, error);
  });
}

function endSpan(open: Map<string, Span>, data: QueryEventData, error?: unknown): void {
  const uid = data?.__knexQueryUid;
  if (uid === undefined) return;
  const span = open.get(uid);
  if (span === undefined) return;
  open.delete(uid);
  if (error !== undefined) recordSpanError(span, error);
  span.end();
}
