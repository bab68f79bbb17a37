/**
 * The case routes, declared once: paths as edf_fusion (so its Python clients work unchanged),
 * the operation each authorizes, and the JSON Schemas the OpenAPI document shows.
 */
import type { Case } from '../../concept/index.js';
import { nestableSchema } from '../envelope.js';
import type { JsonSchema } from '../envelope.js';
import type { RouteSpec } from '../route.js';
import type { CaseStepName, FusionCaseClass } from './context.js';

/** What a case write answers when the event API refuses one of the case's webhook URLs. */
const WEBHOOK_URL_ERRORS = ['FUSION_ERR_WEBHOOK_URL', 'FUSION_ERR_WEBHOOK_REFUSED'] as const;

/** Method, path and operation of each case route, by step name. */
export const CASE_ROUTES = {
  enumerateCases: { method: 'GET', url: '/api/cases', operation: 'enumerate_cases' },
  createCase: { method: 'POST', url: '/api/case', operation: 'create_case' },
  retrieveCase: { method: 'GET', url: '/api/case/:case_guid', operation: 'retrieve_case' },
  updateCase: { method: 'PUT', url: '/api/case/:case_guid', operation: 'update_case' },
  deleteCase: { method: 'DELETE', url: '/api/case/:case_guid', operation: 'delete_case' },
  attachCase: { method: 'PUT', url: '/api/case/:case_guid/attach/:next_case_guid', operation: 'attach_case' },
} as const satisfies Record<CaseStepName, { method: string; url: string; operation: string }>;

/** The full RouteSpec of every case route for `caseClass` (schemas derived from its fields). */
export function caseRouteSpecs<C extends Case>(caseClass: FusionCaseClass<C>): Record<CaseStepName, RouteSpec<false>> {
  const name = caseClass.conceptName;
  const output = nestableSchema(caseClass.jsonSchema({ mode: 'output' }));
  const input = nestableSchema(caseClass.jsonSchema({ mode: 'input' }));
  const patch = nestableSchema(caseClass.jsonSchema({ mode: 'patch' }));
  const list: JsonSchema = { type: 'array', items: output };
  return {
    enumerateCases: {
      ...CASE_ROUTES.enumerateCases,
      response: list,
      summary: 'List the cases you may access',
      description: 'Cases whose acs is empty or shares a name with your username and groups; API-key clients see every case.',
    },
    createCase: {
      ...CASE_ROUTES.createCase,
      body: input,
      response: output,
      errors: ['FUSION_ERR_CONCEPT_INVALID', 'FUSION_ERR_CASE_EXISTS', ...WEBHOOK_URL_ERRORS],
      summary: `Create a ${name}`,
      description:
        'Omitted keys take their defaults (guid, created...); unknown keys are refused. `managed` is set by the server: true for API-key clients.',
    },
    retrieveCase: {
      ...CASE_ROUTES.retrieveCase,
      params: ['case_guid'],
      response: output,
      summary: `Read one ${name}`,
    },
    updateCase: {
      ...CASE_ROUTES.updateCase,
      params: ['case_guid'],
      caseOpenCheck: true,
      body: patch,
      response: output,
      errors: ['FUSION_ERR_CONCEPT_INVALID', 'FUSION_ERR_CONCEPT_READONLY', ...WEBHOOK_URL_ERRORS],
      summary: `Update a ${name}`,
      description:
        'A partial case: the keys sent replace the stored ones. Readonly keys (guid, managed, created) are accepted only with their current value, so a whole case document may be sent back. A closed case refuses updates (409); close one with {"closed": "<now>"}.',
    },
    deleteCase: {
      ...CASE_ROUTES.deleteCase,
      params: ['case_guid'],
      deleteOp: true,
      summary: `Delete a ${name}`,
      description: 'Needs a name listed in auth.can_delete_acs.',
    },
    attachCase: {
      ...CASE_ROUTES.attachCase,
      params: ['case_guid', 'next_case_guid'],
      response: output,
      errors: ['FUSION_ERR_CASE_EXISTS', 'FUSION_ERR_CASE_MANAGED'],
      summary: `Attach a ${name} to the case that manages it`,
      description:
        'API-key clients only: re-keys the case to next_case_guid and marks it managed. 409 when next_case_guid is another case or the case is managed already.',
    },
  };
}
