/** The emitting service of docs/events.md (docs-example.test.ts keeps both identical and runs it). */
import type { FastifyInstance } from 'fastify';
import type { Case } from '../../../src/concept/index.js';
import { FusionAPI } from '../../../src/server/api.js';
import type { FusionServer } from '../../../src/server/server.js';

/** POST /api/scan/:case_guid scans a case, then tells every subscriber of the case. */
export class ScanAPI extends FusionAPI {
  readonly name = 'scan';

  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'POST', url: '/api/scan/:case_guid', operation: 'scan', params: ['case_guid'] }, async (ctx) => {
      const findings = await scan(ctx.case!);
      // Stored first (with its webhook deliveries), then signalled to every instance.
      await server.eventNotifier?.notify('scan_done', ctx.case!, { findings });
      return { findings };
    });
  }
}

/** Stands for the real work. */
async function scan(caseObj: Case): Promise<number> {
  return caseObj.name.length;
}
