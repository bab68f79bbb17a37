/** AnalyzerInfo: the description of an analyzer module. */
import { defineConcept } from './concept.js';
import { field } from './field.js';

/**
 * An analyzer: name, version and tags. edf_fusion's exact wire shape is not in our fixtures,
 * so this shape (name, version, tags) is a best guess to check against edf_fusion.
 */
export class AnalyzerInfo extends defineConcept('AnalyzerInfo', {
  name: field.string({ minLength: 1 }),
  version: field.string().default(''),
  tags: field.stringSet().default([]),
}) {}
