/**
 * Fills the API registry with the framework's own sections (each API folder's `section.ts`).
 * A new built-in API adds one line here; FusionServer.fromConfig loads this file once.
 */
import './auth/section.js';
import './info/section.js';
import './constant/section.js';
import './case/section.js';
import './download/section.js';
import './event/section.js';
import './tcp/section.js';
import './rpc/section.js';

export { apisFromSections } from './api-registry.js';
