/**
 * The scanner's service module: its `scanner` config section and its API (ScannerAPI).
 * It also mounts the plain case API (its `case` section) so that the central service can manage
 * cases here too.
 */
import { defineService } from '../../../src/server/index.js';
import type { ConfigReader } from '../../../src/helper/config.js';
import { ScannerAPI } from './scanner-api.js';
import type { ScannerSettings } from './scanner-api.js';

function parseScanner(reader: ConfigReader): ScannerSettings {
  return {
    trackerUrl: reader.string('tracker_url', { minLength: 1 }),
    trackerApiKey: reader.string('tracker_api_key', { minLength: 16, secret: true }),
    webhookSecret: reader.string('webhook_secret', { minLength: 30, secret: true }),
  };
}

export default defineService({
  sections: { scanner: parseScanner },
  apis: (config) => [new ScannerAPI(config.extra.scanner as ScannerSettings)],
});
