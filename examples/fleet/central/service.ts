/** The central service's module: its `central.services` config list and its API (CentralAPI). */
import type { ConfigReader } from '../../../src/helper/config.js';
import { defineService } from '../../../src/server/index.js';
import { CentralAPI } from './central-api.js';
import { ServiceConnector } from './connector.js';
import type { ServiceSettings } from './connector.js';

function parseCentral(reader: ConfigReader): ServiceSettings[] {
  const services = reader.list('services').map((item) => ({
    name: item.string('name', { pattern: /^[a-z][a-z0-9-]{0,31}$/ }),
    url: item.string('url', { minLength: 1 }),
    apiKey: item.string('api_key', { minLength: 16, secret: true }),
  }));
  if (services.length === 0) throw reader.error('services', 'list at least one service (name, url, api_key)');
  return services;
}

export default defineService({
  sections: { central: parseCentral },
  apis: (config) => [new CentralAPI((config.extra.central as ServiceSettings[]).map((settings) => new ServiceConnector(settings)))],
});
