/** The constant API: GET /api/constant. */
export { FusionConstantAPI } from './impl.js';
export type { ConstantClass, FusionConstantAPIOptions } from './impl.js';
export { parseConstantConfig } from './config.js';
export type { FusionConstantConfig } from './config.js';
