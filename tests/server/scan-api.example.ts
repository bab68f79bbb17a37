/** The example of docs/server.md ("Writing an API"), kept here so a test runs it. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { defineConcept, field } from '../../src/concept/index.js';
import { FusionError } from '../../src/helper/index.js';
import { FusionAPI } from '../../src/server/index.js';
import type { FusionHost } from '../../src/server/index.js';

/** A scan request, declared once: type, validation, JSON Schema. */
export class Scan extends defineConcept('Scan', {
  guid: field.uuid().readonly().default(() => randomUUID()),
  target: field.string({ minLength: 1 }),
}) {}

/** POST /api/scan, GET /api/scan/:scan_guid, GET /api/scans (for logged-in users). */
export class ScanAPI extends FusionAPI {
  readonly name = 'scan';
  readonly #scans = new Map<string, Scan>();

  setup(app: FastifyInstance, server: FusionHost): void {
    server.route(
      app,
      {
        method: 'POST',
        url: '/api/scan',
        operation: 'create_scan',
        public: true,
        body: Scan.jsonSchema({ mode: 'input' }),
        response: Scan.jsonSchema(),
        summary: 'Queue a scan',
      },
      ({ body }) => {
        const scan = Scan.fromJSON(body);
        this.#scans.set(scan.guid, scan);
        return scan;
      },
    );
    server.route(
      app,
      { method: 'GET', url: '/api/scan/:scan_guid', operation: 'retrieve_scan', public: true, params: ['scan_guid'], response: Scan.jsonSchema() },
      ({ params }) => {
        const scan = this.#scans.get(params.scan_guid!);
        if (!scan) throw new FusionError('FUSION_ERR_NOT_FOUND', `scan ${params.scan_guid} not found: list scans with GET /api/scans`);
        return scan;
      },
    );
    server.route(app, { method: 'GET', url: '/api/scans', operation: 'enumerate_scans' }, ({ identity }) => {
      server.logger.info({ user: identity.username }, 'listing scans');
      return [...this.#scans.values()];
    });
  }
}
