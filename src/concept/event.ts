/** Event: what the event API publishes (SSE, webhooks) when a case changes. */
import { Case } from './case.js';
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** An event: who emitted it (source), what happened (category), the full case, extra data. */
export class Event extends defineConcept('Event', {
  source: field.string(),
  category: field.string(),
  case: field.concept(Case),
  ext: field.json().optional(),
}) {}
