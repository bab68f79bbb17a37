/** Constant: service-wide settings clients read from GET /api/constant. */
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** Service constants: the banner to display and whether cases may have an empty acs. */
export class Constant extends defineConcept('Constant', {
  banner: field.string(),
  allow_empty_acs: field.boolean(),
}) {}
