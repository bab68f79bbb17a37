/** The case API: routes, overridable steps, config. */
export { FusionCaseAPI } from './impl.js';
export type { FusionCaseAPIOptions } from './impl.js';
export { CASE_STEP_NAMES } from './context.js';
export type {
  AttachCaseContext,
  CaseCallerContext,
  CaseEventCategory,
  CaseEventOptions,
  CaseStepContext,
  CaseStepHook,
  CaseStepName,
  CaseSteps,
  CreateCaseContext,
  DeleteCaseContext,
  EnumerateCasesContext,
  FusionCaseClass,
  FusionCaseHooks,
  RetrieveCaseContext,
  UpdateCaseContext,
} from './context.js';
export { DEFAULT_CASE_CONFIG, parseCaseConfig, readCaseConfig } from './config.js';
export type { FusionCaseConfig } from './config.js';
export { CASE_ROUTES, caseRouteSpecs } from './routes.js';
