import { describe, expect, it } from '@jest/globals';
import * as root from '../src/index.js';
import * as clientIndex from '../src/client/index.js';
import * as serverIndex from '../src/server/index.js';

describe('public indexes', () => {
  it('define every name they list', () => {
    for (const [name, value] of [...Object.entries(root), ...Object.entries(clientIndex), ...Object.entries(serverIndex)]) {
      expect([name, value]).not.toEqual([name, undefined]);
    }
  });

  it('expose each layer as a namespace and the common names flat', () => {
    expect(root.server.FusionServer).toBe(root.FusionServer);
    expect(root.client.FusionClient).toBe(root.FusionClient);
    expect(root.concept.Case).toBe(root.Case);
    expect(root.helper.FusionError).toBe(root.FusionError);
    expect(Object.keys(clientIndex).sort()).toEqual([
      'FusionAuthAPIClient',
      'FusionCaseAPIClient',
      'FusionClient',
      'FusionClientError',
      'FusionConstantAPIClient',
      'FusionDownloadAPIClient',
      'FusionInfoAPIClient',
      'isFusionClientError',
    ]);
  });
});
