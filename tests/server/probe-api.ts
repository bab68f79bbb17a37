/** A test API whose routes raise every kind of error and return every kind of value. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Case, Identity, Info } from '../../src/concept/index.js';
import { FusionError } from '../../src/helper/errors.js';
import { FusionAPI } from '../../src/server/api.js';
import type { FusionAuthorizer } from '../../src/server/auth/authorizer.js';
import type { FusionServer } from '../../src/server/server.js';

/** Authorizes from header X-Test-User (`name` or `name:group1,group2`); 401 without it. */
export class HeaderAuthorizer implements FusionAuthorizer {
  readonly calls: { operation: string; context: unknown }[] = [];

  async authorize(request: FastifyRequest, operation: string, context?: Record<string, unknown>): Promise<Identity> {
    this.calls.push({ operation, context });
    const header = request.headers['x-test-user'];
    if (typeof header !== 'string') throw new FusionError('FUSION_ERR_UNAUTHORIZED', 'send X-Test-User');
    const [username = '', groups = ''] = header.split(':');
    return new Identity({ username, groups: groups ? groups.split(',') : [] });
  }

  canAccessCase(identity: Identity, caseObj: Case): boolean {
    return caseObj.acs.length === 0 || caseObj.acs.some((name) => identity.acs.has(name));
  }

  isManaged(): boolean {
    return false;
  }
}

/** Routes under /api/probe/. */
export class ProbeAPI extends FusionAPI {
  readonly name = 'probe';
  closed = 0;

  setup(app: FastifyInstance, server: FusionServer): void {
    server.route<{ name: string; count?: number }>(
      app,
      {
        method: 'POST',
        url: '/api/probe/echo',
        operation: 'echo',
        public: true,
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1 }, count: { type: 'integer' } },
        },
        response: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } },
      },
      ({ body }) => body,
    );
    server.route(app, { method: 'GET', url: '/api/probe/boom', operation: 'boom', public: true }, () => {
      throw new Error('db password=hunter2 exploded');
    });
    server.route(app, { method: 'GET', url: '/api/probe/conflict', operation: 'conflict', public: true }, () => {
      throw new FusionError('FUSION_ERR_CASE_EXISTS', 'case exists already');
    });
    server.route(app, { method: 'GET', url: '/api/probe/concept', operation: 'concept', public: true }, () =>
      Case.fromJSON({ name: 42 }),
    );
    server.route(app, { method: 'GET', url: '/api/probe/closed', operation: 'closed', public: true }, () =>
      new Case({ name: 'c', closed: new Date() }).update({ name: 'd' }),
    );
    server.route(app, { method: 'GET', url: '/api/probe/list', operation: 'list', public: true }, () => [
      new Info({ api: 'a', version: '1' }),
      new Info({ api: 'b', version: '2' }),
    ]);
    server.route(app, { method: 'GET', url: '/api/probe/nothing', operation: 'nothing', public: true }, () => undefined);
    server.route(app, { method: 'GET', url: '/api/probe/text', operation: 'text', public: true }, () => 'h\u00e9\u{1F600}');
    server.route(
      app,
      { method: 'GET', url: '/api/probe/item/:item_guid/:other', operation: 'item', public: true, params: ['item_guid'] },
      ({ params }) => params,
    );
    server.route(app, { method: 'GET', url: '/api/probe/private', operation: 'read_private' }, ({ identity }) => identity);
    server.route(
      app,
      { method: 'DELETE', url: '/api/probe/case/:case_guid', operation: 'delete_case', params: ['case_guid'], deleteOp: true, caseOpenCheck: true },
      (ctx) => ({ user: ctx.identity.username, case: ctx.case?.name }),
    );
    server.route(
      app,
      { method: 'GET', url: '/api/probe/case/:case_guid', operation: 'read_case', params: ['case_guid'] },
      (ctx) => ctx.case,
    );
  }

  override async close(): Promise<void> {
    this.closed++;
  }
}
