/**
 * The central service's API (edf_fusion's "iron" pattern): it keeps the fleet's cases and
 * manages them in each service with that service's API key. Syncing a central case creates it
 * in a service (managed there) or updates it; attaching re-keys a case a user opened in a service
 * to a central case. Every route is authorized on the central case it names.
 */
import type { FastifyInstance } from 'fastify';
import { Case } from '../../../src/concept/index.js';
import type { Identity } from '../../../src/concept/index.js';
import { FusionError } from '../../../src/helper/errors.js';
import { FusionAPI } from '../../../src/server/index.js';
import type { FusionHost } from '../../../src/server/index.js';
import type { CaseDocument, ServiceConnector } from './connector.js';

/** Mounts GET /api/services and the /api/service/:service/... routes. */
export class CentralAPI extends FusionAPI {
  readonly name = 'central';
  readonly #services: Map<string, ServiceConnector>;

  constructor(services: readonly ServiceConnector[]) {
    super();
    this.#services = new Map(services.map((service) => [service.name, service]));
  }

  setup(app: FastifyInstance, server: FusionHost): void {
    const connector = (params: Record<string, string>): ServiceConnector => {
      const found = this.#services.get(params.service ?? '');
      if (found === undefined) throw new FusionError('FUSION_ERR_NOT_FOUND', `no service named ${params.service}: GET /api/services lists them`);
      return found;
    };
    // A service's case is judged by the central service's rules (its acs against the caller's names).
    const mayAccess = (identity: Identity, document: CaseDocument): boolean => server.authorizer!.canAccessCase(identity, Case.fromJSON(document));
    const notify = (category: string, ctx: { case: Case }, service: string, ext: Record<string, unknown> = {}): Promise<unknown> | undefined =>
      server.eventNotifier?.notify(category, ctx.case, { service, ...ext });

    server.route(app, { method: 'GET', url: '/api/services', operation: 'enumerate_services' }, () =>
      [...this.#services.values()].map((service) => ({ name: service.name, url: service.url })),
    );

    // The cases users opened in a service on their own: candidates for attach.
    server.route(app, { method: 'GET', url: '/api/service/:service/cases', operation: 'enumerate_service_cases' }, async (ctx) => {
      const cases = await connector(ctx.params).enumerateCases();
      return cases.filter((c) => !c.managed && mayAccess(ctx.identity, c));
    });

    server.route(app, { method: 'GET', url: '/api/service/:service/case/:case_guid', operation: 'probe_service_case', params: ['case_guid'] }, async (ctx) => {
      const found = await connector(ctx.params).retrieveCase(ctx.case.guid);
      if (found === null) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `${ctx.params.service} has no case ${ctx.case.guid}: sync it first`);
      return found;
    });

    // Create or update the central case in the service: the service's own fields are left as they are.
    server.route(
      app,
      { method: 'POST', url: '/api/service/:service/case/:case_guid', operation: 'sync_service_case', params: ['case_guid'] },
      async (ctx) => {
        const service = connector(ctx.params);
        const { guid, managed: _managed, created: _created, updated: _updated, ...fields } = ctx.case.toJSON();
        const existing = await service.retrieveCase(guid);
        const synced = existing === null ? await service.createCase({ guid, ...fields }) : await service.updateCase(guid, fields);
        await notify(existing === null ? 'service_create_case' : 'service_update_case', ctx, service.name);
        return synced;
      },
    );

    server.route(
      app,
      {
        method: 'PUT',
        url: '/api/service/:service/case/:service_case_guid/attach/:case_guid',
        operation: 'attach_service_case',
        params: ['service_case_guid', 'case_guid'],
      },
      async (ctx) => {
        const service = connector(ctx.params);
        const previous = ctx.params.service_case_guid!;
        const found = await service.retrieveCase(previous);
        if (found === null) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `${service.name} has no case ${previous}`);
        if (!mayAccess(ctx.identity, found)) throw new FusionError('FUSION_ERR_FORBIDDEN', `you may not access case ${previous} of ${service.name}`);
        const attached = await service.attachCase(previous, ctx.case.guid);
        await notify('service_attach_case', ctx, service.name, { previous_guid: previous });
        return attached;
      },
    );
  }

  override async close(): Promise<void> {
    await Promise.all([...this.#services.values()].map((service) => service.close()));
  }
}
