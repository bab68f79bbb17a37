/**
 * The fleet's shared vocabulary: the tracker's IncidentCase (Case plus validated fields) and the
 * Event that carries one, used by the tracker, the scanner and their clients alike.
 * A real service imports from 'fusion-framework/concept' instead of the sources.
 */
import { Case, Event, field, registerConcept } from '../../src/concept/index.js';

/** How bad an incident is, as the reporter judges it. */
export const Severity = { LOW: 'low', MEDIUM: 'medium', HIGH: 'high', CRITICAL: 'critical' } as const;
/** A severity value. */
export type Severity = (typeof Severity)[keyof typeof Severity];

/** The tracker's case: every new field has a default or is optional, so older documents still decode. */
export class IncidentCase extends Case.extend('IncidentCase', {
  severity: field.enumOf(Severity).default('medium'),
  reporter: field.string({ minLength: 1, maxLength: 100 }).optional(),
  assets: field.stringSet().default([]),
  /** Written by the scanner (API-key clients only): 0 to 100. */
  risk_score: field.integer({ min: 0, max: 100 }).optional(),
  /** Who computed risk_score. */
  triaged_by: field.string({ minLength: 1, maxLength: 100 }).optional(),
}) {}
registerConcept(IncidentCase);

/** An Event whose case decodes as an IncidentCase. */
export class IncidentEvent extends Event.extend('IncidentEvent', { case: field.concept(IncidentCase) }) {}

const BASE: Record<Severity, number> = { low: 10, medium: 30, high: 60, critical: 80 };

/** The scanner's verdict: a base by severity plus 5 per affected asset, at most 100. */
export function riskScore(incident: IncidentCase): number {
  return Math.min(100, BASE[incident.severity] + 5 * incident.assets.length);
}
