/** AuthInfo: the auth backend description from GET /api/auth/config. */
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** The auth backend type (e.g. `basic`, `oidc`) and its public parameters. */
export class AuthInfo extends defineConcept('AuthInfo', {
  type: field.string(),
  parameters: field.record(field.json()).default({}),
}) {}
