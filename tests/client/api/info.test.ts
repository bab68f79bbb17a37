import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionInfoAPIClient } from '../../../src/client/api/info.js';
import { FusionClient } from '../../../src/client/client.js';
import { Info } from '../../../src/concept/index.js';
import { edfFixture, fixtureServer } from './fixture-server.js';

class ServiceInfo extends Info.extend('ServiceInfo', {}) {
  label(): string {
    return `${this.api} ${this.version}`;
  }
}

let server: Awaited<ReturnType<typeof fixtureServer>>;
let client: FusionClient;
let fixture: unknown;

beforeAll(async () => {
  fixture = await edfFixture('info');
  server = await fixtureServer({ '/api/info': fixture });
  client = new FusionClient({ baseUrl: server.url });
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe('FusionInfoAPIClient', () => {
  it("decodes edf_fusion's Info", async () => {
    const info = await new FusionInfoAPIClient({ client }).info();
    expect(info).toBeInstanceOf(Info);
    expect(info.toJSON()).toEqual(fixture);
  });

  it("decodes with a service's Info subclass", async () => {
    const info = await new FusionInfoAPIClient({ client, infoClass: ServiceInfo }).info();
    expect(info).toBeInstanceOf(ServiceInfo);
    expect(info.label()).toBe('demo 0.1.0');
  });

  it('needs a client', () => {
    expect(() => new FusionInfoAPIClient({} as { client: FusionClient })).toThrow(/client is required/);
  });
});
