import { describe, expect, it } from '@jest/globals';
import * as root from '../src/index.js';
import * as clientIndex from '../src/client/index.js';
import * as conceptIndex from '../src/concept/index.js';
import * as helperIndex from '../src/helper/index.js';
import * as serverIndex from '../src/server/index.js';
import * as testingIndex from '../src/testing/index.js';

describe('public indexes', () => {
  it('define every name they list', () => {
    const indexes = [root, clientIndex, serverIndex, conceptIndex, helperIndex, testingIndex];
    for (const [name, value] of indexes.flatMap((index) => Object.entries(index))) {
      expect([name, value]).not.toEqual([name, undefined]);
    }
  });

  it('expose each layer as a namespace and the common names flat', () => {
    expect(root.server.FusionServer).toBe(root.FusionServer);
    expect(root.client.FusionClient).toBe(root.FusionClient);
    expect(root.concept.Case).toBe(root.Case);
    expect(root.helper.FusionError).toBe(root.FusionError);
    expect(root.FusionEventAPI).toBe(serverIndex.FusionEventAPI);
    expect(Object.keys(clientIndex).sort()).toEqual([
      'FusionAnalysisAPIClient',
      'FusionAuthAPIClient',
      'FusionCaseAPIClient',
      'FusionClient',
      'FusionClientError',
      'FusionCloudAPIClient',
      'FusionConstantAPIClient',
      'FusionDownloadAPIClient',
      'FusionEventAPIClient',
      'FusionInfoAPIClient',
      'FusionRpcClient',
      'FusionRpcError',
      'FusionTcpClient',
      'createWebhookReceiver',
      'encodeCloudPath',
      'isFusionClientError',
    ]);
  });

  it('export the observability API (metrics on the server index, tracing helpers on the helper index)', () => {
    expect(typeof serverIndex.FusionMetrics).toBe('function');
    expect(typeof serverIndex.FusionMetricsAPI).toBe('function');
    expect(serverIndex.REQUEST_DURATION_SERIES).toBe('fusion_http_request_duration_seconds');
    expect(typeof serverIndex.readTelemetryConfig).toBe('function');
    for (const name of ['withSpan', 'injectTraceContext', 'extractTraceContext', 'serializeTraceContext', 'deserializeTraceContext'] as const) {
      expect(typeof helperIndex[name]).toBe('function');
    }
  });
});
