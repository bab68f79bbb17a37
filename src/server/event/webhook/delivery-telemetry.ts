/**
 * Telemetry of webhook attempts: a `fusion.webhook.deliver` span per attempt, child of the
 * trace stored in the delivery row (the request that caused the event, whichever instance
 * makes the attempt), during which the sender injects `traceparent` into the request; and the
 * counter `fusion_webhook_attempts_total{outcome}` on the server's metrics.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Counter } from 'prom-client';
import { deserializeTraceContext, withSpan } from '../../../helper/telemetry.js';
import type { FusionMetrics } from '../../metrics/registry.js';
import type { ClaimedDelivery } from './delivery-rows.js';
import type { AttemptOutcome } from './webhook-sender.js';

/** Records each attempt as a span and a counted outcome. */
export class DeliveryTelemetry {
  readonly #attempts: Counter<'outcome'> | null;

  constructor(metrics: FusionMetrics | undefined) {
    this.#attempts =
      metrics?.counter<'outcome'>({
        name: 'fusion_webhook_attempts_total',
        help: 'Webhook delivery attempts made by this instance, by outcome (delivered, retry, gone, refused)',
        labelNames: ['outcome'],
      }) ?? null;
  }

  /** Runs `attempt` (one attempt at `row`) inside its span; counts and records its outcome. */
  run(row: ClaimedDelivery, attempt: () => Promise<AttemptOutcome>): Promise<AttemptOutcome> {
    const attributes = { 'url.full': row.url, 'fusion.webhook.id': row.webhookId, 'fusion.event.id': row.eventId, 'fusion.webhook.attempt': row.attempt };
    const parent = deserializeTraceContext(row.traceContext, ROOT_CONTEXT);
    return withSpan(
      'fusion.webhook.deliver',
      attributes,
      async (span) => {
        const outcome = await attempt();
        span.setAttribute('fusion.webhook.outcome', outcome.kind);
        if ('status' in outcome) span.setAttribute('http.response.status_code', outcome.status);
        if (outcome.kind !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR, message: 'error' in outcome ? outcome.error : `HTTP ${outcome.status}` });
        this.#attempts?.inc({ outcome: outcome.kind });
        return outcome;
      },
      { kind: SpanKind.CLIENT, parent },
    );
  }
}
