import { describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { deserializeTraceContext, extractTraceContext, injectTraceContext, serializeTraceContext, withSpan } from '../../src/helper/telemetry.js';
import { parentOf, useInMemorySdk } from '../server/telemetry/otel-sdk.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('telemetry helpers without an SDK (the default)', () => {
  it('run the work, carry nothing, and record nothing', async () => {
    expect(await withSpan('work', { a: 1 }, (span) => (span.isRecording() ? 'recording' : 'no-op'))).toBe('no-op');
    await expect(withSpan('failing', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(injectTraceContext({})).toEqual({});
    expect(serializeTraceContext()).toBeNull();
    expect(trace.getSpan(extractTraceContext({ traceparent: TRACEPARENT }))).toBeUndefined();
  });
});

describe('telemetry helpers with an SDK registered', () => {
  const recorder = useInMemorySdk();

  it('withSpan nests spans, records a throw as ERROR and rethrows it', async () => {
    recorder.exporter.reset();
    await withSpan('outer', { 'scan.case': 'c1' }, async () => {
      await withSpan('inner', {}, () => undefined, { kind: SpanKind.CLIENT });
      await expect(withSpan('failing', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    });
    const [inner, failing, outer] = recorder.spans();
    expect([inner!.name, failing!.name, outer!.name]).toEqual(['inner', 'failing', 'outer']);
    expect(parentOf(inner!)).toBe(outer!.spanContext().spanId);
    expect(inner!.kind).toBe(SpanKind.CLIENT);
    expect(outer!.attributes).toEqual({ 'scan.case': 'c1' });
    expect(failing!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(failing!.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('inject / extract carry the trace through headers; serialize / deserialize through a stored string', async () => {
    recorder.exporter.reset();
    const parent = extractTraceContext({ TraceParent: TRACEPARENT });
    await withSpan(
      'continued',
      {},
      () => {
        const carrier = injectTraceContext({});
        const active = trace.getSpan(context.active())!.spanContext();
        expect(carrier).toEqual({ traceparent: `00-${active.traceId}-${active.spanId}-01` });
        const stored = serializeTraceContext();
        expect(JSON.parse(stored!)).toEqual(carrier);
        expect(trace.getSpan(deserializeTraceContext(stored))!.spanContext().spanId).toBe(active.spanId);
      },
      { parent },
    );
    const [span] = recorder.spans();
    expect(span!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parentOf(span!)).toBe('00f067aa0ba902b7');
  });

  it('ignore a stored context that is missing or unreadable (the active context is used)', () => {
    const base = context.active();
    for (const stored of [null, undefined, '', 'not json', '[1]', '{"traceparent": 42}', '{"traceparent": "garbage"}']) {
      expect(trace.getSpan(deserializeTraceContext(stored, base))).toBeUndefined();
    }
    expect(extractTraceContext(null, base)).toBe(base);
  });
});
