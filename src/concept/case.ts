/** Case: the unit of work every Fusion service shares (wire-compatible with edf_fusion). */
import { randomUUID } from 'node:crypto';
import { utcNow } from '../helper/datetime.js';
import { defineConcept } from './concept.js';
import { ConceptError } from './concept-error.js';
import type { DecodeOptions } from './concept-types.js';
import { isPlainObject } from './field-composite.js';
import { field } from './field.js';

/** A case: guid, timestamps, name, description, access control set (acs) and webhooks. */
export class Case extends defineConcept('Case', {
  guid: field.uuid().readonly().default(() => randomUUID()),
  managed: field.boolean().readonly().default(false),
  created: field.datetime().readonly().default(utcNow),
  updated: field.datetime().optional(),
  closed: field.datetime().optional(),
  tsid: field.string().optional(),
  name: field.string({ minLength: 1 }),
  description: field.string().default(''),
  acs: field.stringSet().default([]),
  webhooks: field.array(field.string()).default([]),
}) {
  /**
   * Applies a partial update: refused (FUSION_ERR_CASE_CLOSED, 409) when the case is closed;
   * `updated` in the patch is ignored and set to now; readonly keys only with their value.
   */
  override update(patch: unknown, options?: DecodeOptions): this {
    if (this.closed !== null) {
      throw new ConceptError({
        conceptName: (this.constructor as typeof Case).conceptName,
        code: 'FUSION_ERR_CASE_CLOSED',
        status: 409,
        detail: `case ${this.guid} is closed and cannot be updated`,
      });
    }
    let effective = patch;
    if (isPlainObject(patch) && Object.hasOwn(patch, 'updated')) {
      const { updated: _ignored, ...rest } = patch;
      effective = rest;
    }
    super.update(effective, options);
    this.updated = utcNow();
    return this;
  }
}
