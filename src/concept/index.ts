/** Public surface of fusion-framework/concept. */
export { Concept, defineConcept } from './concept.js';
export type { AnyConceptClass, ConceptArgs, ConceptClass, ConceptConstructor, ConceptInstance, ConceptStatics } from './concept.js';
export { ConceptError } from './concept-error.js';
export type { ConceptErrorDetails } from './concept-error.js';
export type {
  CompatibleFields,
  ConceptData,
  ConceptInput,
  ConceptWire,
  DecodeOptions,
  Fields,
  MergeFields,
  SchemaOptions,
} from './concept-types.js';
export { field } from './field.js';
export { Field } from './field-base.js';
export type { AnyField, FieldCodec, FieldFlags, FieldInput, FieldType, FieldWire, JsonSchema, JsonValue, PathSegment, SchemaMode } from './field-base.js';
export type { IntegerOptions, StringOptions } from './field-scalar.js';
export { Case } from './case.js';
export { Identity } from './identity.js';
export { Identities } from './identities.js';
export { Event } from './event.js';
export { Constant } from './constant.js';
export { Info } from './info.js';
export { AuthInfo } from './auth-info.js';
export { PendingDownloadKey } from './pending-download-key.js';
export type { CloudEntry } from './cloud-entry.js';
export { CLOUD_PERMISSIONS } from './cloud-access.js';
export type { CloudPermission, CloudPermissionsInfo, CloudRoleAssignment, CloudLink } from './cloud-access.js';
export type { RpcCall, RpcCodecName, RpcConnectionInfo, RpcItemOf, RpcParamsOf, RpcResultOf } from './rpc-types.js';
export { AnalyzerInfo } from './analyzer-info.js';
export { ANALYSIS_TRANSITIONS, Analysis, AnalysisPriority, AnalysisStatus, isLegalTransition } from './analysis.js';
export { fusionSerializer, registerConcept } from './serializer.js';
