/**
 * An in-memory OpenTelemetry SDK for one test file: registered in beforeAll (tracer provider,
 * AsyncLocalStorage context manager, W3C propagator, as a service's entry would), unregistered
 * in afterAll so other suites in the same worker see the no-op API again.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The exporter the suite reads finished spans from. */
export interface SpanRecorder {
  readonly exporter: InMemorySpanExporter;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
}

/** Registers the SDK around the enclosing describe block. */
export function useInMemorySdk(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  let provider: NodeTracerProvider | undefined;
  beforeAll(() => {
    provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
  });
  afterAll(async () => {
    await provider?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return { exporter, spans: () => exporter.getFinishedSpans() };
}

/** The parent span id of `span` (undefined for a root span). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** True when `ancestor` is `span`'s parent, grandparent... among `spans`. */
export function descendsFrom(span: ReadableSpan, ancestor: ReadableSpan, spans: readonly ReadableSpan[]): boolean {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  for (let current: ReadableSpan | undefined = span; current !== undefined; current = byId.get(parentOf(current) ?? '')) {
    if (parentOf(current) === ancestor.spanContext().spanId) return true;
  }
  return false;
}

/** One line per span of `traceId`, indented under its parent, children in start order: `name  key=value...`. */
export function renderTrace(spans: readonly ReadableSpan[], traceId: string, label: (span: ReadableSpan) => string): string[] {
  const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
  const ids = new Set(inTrace.map((span) => span.spanContext().spanId));
  const children = (parentId: string | undefined): ReadableSpan[] =>
    inTrace
      .filter((span) => (parentId === undefined ? !ids.has(parentOf(span) ?? '') : parentOf(span) === parentId))
      .sort((x, y) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1]);
  const lines: string[] = [];
  const walk = (span: ReadableSpan, depth: number): void => {
    lines.push(`${'  '.repeat(depth)}${label(span)}`);
    for (const child of children(span.spanContext().spanId)) walk(child, depth + 1);
  };
  for (const root of children(undefined)) walk(root, 0);
  return lines;
}
