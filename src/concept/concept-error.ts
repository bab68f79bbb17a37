/** The error concepts throw for invalid data: names the class and the field path. */
import type { FusionErrorCode } from '../helper/errors.js';
import { FusionError } from '../helper/errors.js';
import type { PathSegment } from './field-base.js';
import { formatPath } from './field-base.js';

/** What a ConceptError is about. */
export interface ConceptErrorDetails {
  /** The concept class that refused the data, e.g. `Case`. */
  conceptName: string;
  /** Path of the bad value below the concept, e.g. `['case', 'acs', 2]`. */
  segments?: readonly PathSegment[];
  /** What was wrong, e.g. `expected string, got 3`. */
  detail: string;
  /** Error code; FUSION_ERR_CONCEPT_INVALID unless said otherwise. */
  code?: FusionErrorCode;
  /** HTTP status, when not the code's default. */
  status?: number;
  /** Underlying cause, if any. */
  cause?: unknown;
}

/** Invalid concept data: message `Case.created: expected ISO-8601 datetime, got 42`. */
export class ConceptError extends FusionError {
  /** The concept class that refused the data. */
  readonly conceptName: string;
  /** Field path as text, e.g. `case.acs[2]` ('' for the whole document). */
  readonly path: string;
  /** Field path as segments, e.g. `['case', 'acs', 2]`. */
  readonly segments: readonly PathSegment[];
  /** The message without the `Class.path: ` prefix. */
  readonly detail: string;

  constructor(details: ConceptErrorDetails) {
    const segments = details.segments ?? [];
    const path = formatPath(segments);
    const where = path === '' ? details.conceptName : path.startsWith('[') ? `${details.conceptName}${path}` : `${details.conceptName}.${path}`;
    super(details.code ?? 'FUSION_ERR_CONCEPT_INVALID', `${where}: ${details.detail}`, {
      cause: details.cause,
      status: details.status,
    });
    this.name = 'ConceptError';
    this.conceptName = details.conceptName;
    this.path = path;
    this.segments = segments;
    this.detail = details.detail;
  }
}
