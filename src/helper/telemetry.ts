/**
 * Tracing helpers over `@opentelemetry/api`: spans around a unit of work, and the trace context
 * written to / read from a carrier (HTTP headers, a stored row, an RPC frame). Everything is a
 * no-op until the service registers an OpenTelemetry SDK (see docs/observability.md), so a
 * module may call these unconditionally.
 */
import { context, isSpanContextValid, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanKind } from '@opentelemetry/api';
import { FUSION_VERSION } from './version.js';

/** Name of the tracer the framework's own spans come from. */
export const FUSION_TRACER_NAME = 'fusion-framework';

/** Headers (or any string map) a trace context is written to or read from: `traceparent`, `tracestate`. */
export type TraceCarrier = Record<string, string>;

/** Options of withSpan. */
export interface WithSpanOptions {
  /** Span kind (default INTERNAL; CLIENT for an outgoing call, CONSUMER for queued work). */
  kind?: SpanKind;
  /** Parent context instead of the active one (e.g. from extractTraceContext). */
  parent?: Context;
}

/** The framework's tracer (asked each time: the SDK may be registered, or replaced, after start). */
export function fusionTracer(): ReturnType<typeof trace.getTracer> {
  return trace.getTracer(FUSION_TRACER_NAME, FUSION_VERSION);
}

/**
 * Runs `fn` inside a new active span `name` with `attributes`: spans started inside become its
 * children. The span ends when `fn` settles; a throw is recorded on it (status ERROR) and rethrown.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T, options: WithSpanOptions = {}): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = fusionTracer().startSpan(name, { attributes, ...(options.kind === undefined ? {} : { kind: options.kind }) }, parent);
  try {
    // No SDK and no trace to continue, in the parent's context already: nothing to activate (saves a context per span).
    if (!span.isRecording() && !isSpanContextValid(span.spanContext()) && parent === context.active()) return await fn(span);
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordSpanError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks `span` failed with `error` (its message as status, the exception as an event). */
export function recordSpanError(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}

/** Writes the active trace context (or `from`) into `carrier` (`traceparent`...); returns the carrier. */
export function injectTraceContext<C extends TraceCarrier>(carrier: C, from: Context = context.active()): C {
  propagation.inject(from, carrier);
  return carrier;
}

/** A context whose parent is the trace written in `carrier`, keys in any case (the active context when it holds none). */
export function extractTraceContext(carrier: Readonly<Record<string, string | string[] | undefined>> | null | undefined, base: Context = context.active()): Context {
  if (carrier === null || carrier === undefined) return base;
  return propagation.extract(base, carrier, {
    keys: (value) => Object.keys(value),
    get: (value, key) => value[key] ?? value[Object.keys(value).find((name) => name.toLowerCase() === key) ?? key],
  });
}

/** The active trace context (or `from`) as a carrier, or null when there is none to carry (no SDK, no span). */
export function currentTraceCarrier(from: Context = context.active()): TraceCarrier | null {
  const carrier = injectTraceContext<TraceCarrier>({}, from);
  return carrier.traceparent === undefined ? null : carrier;
}

/**
 * The W3C trace context an object (an RPC frame, a stored carrier) holds in its `traceparent` /
 * `tracestate` members, or null when it has none. A member that is not a string is ignored;
 * a malformed value is left to the propagator, which ignores it too.
 */
export function traceCarrierOf(value: object): TraceCarrier | null {
  const { traceparent, tracestate } = value as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== 'string') return null;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}

/** The active trace context as a JSON string to store with queued work (null when there is none to carry). */
export function serializeTraceContext(from: Context = context.active()): string | null {
  const carrier = injectTraceContext({}, from);
  return Object.keys(carrier).length === 0 ? null : JSON.stringify(carrier);
}

/** The carrier stored by serializeTraceContext (null when `stored` is null, unreadable or empty). */
export function deserializeTraceCarrier(stored: string | null | undefined): TraceCarrier | null {
  if (stored === null || stored === undefined || stored === '') return null;
  try {
    const parsed: unknown = JSON.parse(stored);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const carrier: TraceCarrier = {};
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') carrier[key] = value;
    return Object.keys(carrier).length === 0 ? null : carrier;
  } catch {
    return null;
  }
}

/** The context stored by serializeTraceContext (the active one when `stored` is null or unreadable). */
export function deserializeTraceContext(stored: string | null | undefined, base: Context = context.active()): Context {
  const carrier = deserializeTraceCarrier(stored);
  return carrier === null ? base : extractTraceContext(carrier, base);
}
