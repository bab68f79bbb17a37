/** GET /api/health: 200 when the server answers and its storage does, 503 otherwise. */
import type { FastifyInstance } from 'fastify';
import { FusionError } from '../helper/errors.js';
import { buildRoute } from './route.js';
import type { FusionHost } from './host.js';

const HEALTH_SCHEMA = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok'] } },
  required: ['status'],
};

/** Adds GET /api/health to `app`. */
export function installHealthRoute(app: FastifyInstance, server: FusionHost): void {
  const healthy = { status: 'ok' };
  const route = buildRoute(
    server,
    {
      method: 'GET',
      url: '/api/health',
      operation: 'health',
      public: true,
      response: HEALTH_SCHEMA,
      summary: 'Liveness and storage check',
      tags: ['server'],
    },
    async ({ request }) => {
      if (!server.hasStorage) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'storage is not open: the server is starting or stopping');
      try {
        await server.storage.knex.raw('select 1');
      } catch (error) {
        request.log.error({ err: error }, 'health: storage does not answer');
        throw new FusionError('FUSION_ERR_UNAVAILABLE', 'storage does not answer: see the server log');
      }
      return healthy;
    },
  );
  app.route(route);
}
