import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { ConfigError } from '../../../src/helper/config.js';
import { readTelemetryConfig, TELEMETRY_DEFAULTS } from '../../../src/server/telemetry/config.js';
import { installRequestSpans, isTracerProviderRegistered } from '../../../src/server/telemetry/request-spans.js';
import { useInMemorySdk } from './otel-sdk.js';

describe('the telemetry section', () => {
  it('defaults to request spans when an SDK is registered (auto), no hook spans', () => {
    expect(readTelemetryConfig(undefined)).toEqual({ requestSpans: 'auto', hookSpans: false });
    expect(readTelemetryConfig({})).toEqual(TELEMETRY_DEFAULTS);
    expect(readTelemetryConfig({ request_spans: 'auto', hook_spans: true })).toEqual({ requestSpans: 'auto', hookSpans: true });
    expect(readTelemetryConfig({ request_spans: false })).toEqual({ requestSpans: false, hookSpans: false });
  });

  it('names a bad or unknown key', () => {
    expect(() => readTelemetryConfig({ request_spans: 3 })).toThrow(ConfigError);
    expect(() => readTelemetryConfig({ request_spans: 'sometimes' })).toThrow(/telemetry\.request_spans/);
    expect(() => readTelemetryConfig({ hook_span: true })).toThrow(/telemetry\.hook_span/);
  });
});

/** True when installRequestSpans registered @fastify/otel on a new instance. */
async function instrumented(config: Parameters<typeof installRequestSpans>[1]): Promise<boolean> {
  const app = Fastify();
  installRequestSpans(app, config);
  await app.ready();
  const result = app.hasRequestDecorator('opentelemetry');
  await app.close();
  return result;
}

describe('request spans without an SDK', () => {
  it('are not installed by auto (no per-request cost), but are when forced', async () => {
    expect(isTracerProviderRegistered()).toBe(false);
    expect(await instrumented({ requestSpans: 'auto', hookSpans: false })).toBe(false);
    expect(await instrumented({ requestSpans: true, hookSpans: false })).toBe(true);
  });
});

describe('request spans with an SDK registered', () => {
  useInMemorySdk();
  it('are installed by auto, and not when off', async () => {
    expect(isTracerProviderRegistered()).toBe(true);
    expect(await instrumented({ requestSpans: 'auto', hookSpans: false })).toBe(true);
    expect(await instrumented({ requestSpans: false, hookSpans: false })).toBe(false);
  });
});
