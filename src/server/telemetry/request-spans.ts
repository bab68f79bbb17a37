/**
 * Request spans: `@fastify/otel` registered on the root instance before any API, so every
 * route (and the 404 handler) gets a `request` span continuing the caller's `traceparent`,
 * with the route handler's span as its child. A no-op until an SDK is registered.
 */
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { FastifyInstance } from 'fastify';
import type { FusionTelemetryConfig } from './config.js';

/** Registers the request instrumentation on `app` (the root instance, before the APIs) when `request_spans` is on. */
export function installRequestSpans(app: FastifyInstance, config: FusionTelemetryConfig): void {
  if (!config.requestSpans) return;
  // One instrumentation per server: its tracer is looked up when it is built, so a server
  // made after an SDK was (re)registered uses that SDK.
  const instrumentation = new FastifyOtelInstrumentation({ instrumentHooks: config.hookSpans });
  app.register(instrumentation.plugin());
}
