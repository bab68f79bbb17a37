/** The info API: GET /api/info. */
export { FusionInfoAPI } from './impl.js';
export type { FusionInfoAPIOptions } from './impl.js';
export { parseInfoConfig } from './config.js';
export type { FusionInfoConfig } from './config.js';
