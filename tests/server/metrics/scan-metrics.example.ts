/** A service API counting scans and reporting its queue depth through the server's metrics. */
import type { FastifyInstance } from 'fastify';
import { FusionAPI } from '../../../src/server/api.js';
import type { FusionHost } from '../../../src/server/host.js';

export class ScanAPI extends FusionAPI {
  readonly name = 'scan';
  readonly queue: string[] = [];

  setup(app: FastifyInstance, server: FusionHost): void {
    const scans = server.metrics.counter<'result'>({ name: 'scan_requests_total', help: 'Scan requests, by result', labelNames: ['result'] });
    server.metrics.gauge({ name: 'scan_queue_depth', help: 'Scans waiting', collect: (gauge) => gauge.set(this.queue.length) });
    server.route(app, { method: 'POST', url: '/api/scan', operation: 'scan' }, ({ identity }) => {
      this.queue.push(identity.username);
      scans.inc({ result: 'queued' });
      return { queued: this.queue.length };
    });
  }
}
