/**
 * Request spans: `@fastify/otel` registered on the root instance before any API, so every
 * route (and the 404 handler) gets a `request` span continuing the caller's `traceparent`,
 * with the route handler's span as its child. A no-op until an SDK is registered.
 */
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { redactUrl } from '../log-redaction.js';
import type { FusionTelemetryConfig } from './config.js';

/** True when an OpenTelemetry SDK is registered as the global tracer provider. */
export function isTracerProviderRegistered(): boolean {
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  // Without an SDK the global proxy delegates to the API's shared no-op provider.
  return typeof provider.getDelegate !== 'function' || provider.getDelegate() !== new ProxyTracerProvider().getDelegate();
}

/** Registers the request instrumentation on `app` (the root instance, before the APIs) when `request_spans` says so. */
export function installRequestSpans(app: FastifyInstance, config: FusionTelemetryConfig): void {
  if (config.requestSpans === false || (config.requestSpans === 'auto' && !isTracerProviderRegistered())) return;
  const plugin = async (root: FastifyInstance): Promise<void> => {
    // Loaded only when spans are on: @fastify/otel and its OpenTelemetry packages cost ~90 ms of CPU at start.
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    // One instrumentation per server: its tracer is looked up when it is built, so a server
    // made after an SDK was (re)registered uses that SDK.
    const instrumentation = new FastifyOtelInstrumentation({
      instrumentHooks: config.hookSpans,
      // url.path is the raw URL: secrets in it (download tokens) are redacted as in the logs.
      requestHook: (span, request) => span.setAttribute('url.path', redactUrl(request.url)),
    });
    await root.register(instrumentation.plugin());
  };
  // Runs in the root context (fastify-plugin's flag), so the instrumentation reaches every route.
  app.register(Object.assign(plugin, { [Symbol.for('skip-override')]: true }));
}
