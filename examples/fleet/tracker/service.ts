/**
 * The tracker: a case-tracking service whose cases are IncidentCases. Users report incidents;
 * only service (API-key) clients may write the scanner's verdict (`risk_score`, `triaged_by`).
 * A real service imports from 'fusion-framework/server' instead of the sources.
 */
import { FusionError } from '../../../src/helper/errors.js';
import { FusionCaseAPI, defineService } from '../../../src/server/index.js';
import { IncidentCase } from '../incident.js';

const VERDICT_KEYS = ['risk_score', 'triaged_by'];

function refuseVerdictFromUsers(managed: boolean, body: Record<string, unknown>, current?: IncidentCase): void {
  if (managed) return;
  // A user may send back the whole case it read (verdict unchanged), never a verdict of its own.
  const changed = VERDICT_KEYS.filter((key) => key in body && body[key] !== (current?.toJSON()[key as 'risk_score'] ?? null));
  if (changed.length > 0) throw new FusionError('FUSION_ERR_FORBIDDEN', `${changed.join(', ')}: written by the scanner only`);
}

export default defineService({
  caseClass: IncidentCase,
  // Named 'case', this API replaces the built-in one the `case` section would mount.
  apis: [
    new FusionCaseAPI<IncidentCase>({
      caseClass: IncidentCase,
      hooks: {
        createCase: async (ctx, next) => {
          refuseVerdictFromUsers(ctx.managed, ctx.body);
          return next();
        },
        updateCase: async (ctx, next) => {
          refuseVerdictFromUsers(ctx.managed, ctx.body, ctx.case);
          return next();
        },
      },
    }),
  ],
});
