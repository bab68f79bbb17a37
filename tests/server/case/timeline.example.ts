/** The service example of docs/cases.md (docs-example.test.ts keeps both identical and runs it). */
import { Case, field } from '../../../src/concept/index.js';
import { FusionError } from '../../../src/helper/errors.js';
import { FusionCaseAPI } from '../../../src/server/case/index.js';
import type { CaseEventCategory, CreateCaseContext } from '../../../src/server/case/index.js';

/** A timeline service's case: one more field, with a default so older documents still decode. */
export class TimelineCase extends Case.extend('TimelineCase', { color: field.string().default('red') }) {}

/** Overrides by subclassing: every new case gets a tsid, and changes are recorded. */
export class TimelineCaseAPI extends FusionCaseAPI<TimelineCase> {
  readonly changes: string[] = [];

  protected override async createCase(ctx: CreateCaseContext<TimelineCase>): Promise<TimelineCase> {
    ctx.case.tsid = `TL-${ctx.case.guid.slice(0, 8)}`;
    return super.createCase(ctx); // the default: storage.createCase
  }

  protected override async onCaseEvent(category: CaseEventCategory, c: TimelineCase): Promise<void> {
    this.changes.push(`${category} ${c.guid}`);
    await super.onCaseEvent(category, c); // keeps notifying the event API
  }
}

/** The API as the service mounts it, plus a hook: managed cases are deleted by their manager only. */
export function timelineCaseAPI(): TimelineCaseAPI {
  return new TimelineCaseAPI({
    caseClass: TimelineCase,
    hooks: {
      deleteCase: async (ctx, next) => {
        if (ctx.case.managed) {
          throw new FusionError('FUSION_ERR_FORBIDDEN', 'this case is managed: delete it from the service that manages it');
        }
        return next(); // the class's step (here the default)
      },
    },
  });
}
