/** Info: what GET /api/info answers (API name and version). */
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** The name and version of a service's API. */
export class Info extends defineConcept('Info', {
  api: field.string(),
  version: field.string(),
}) {}
