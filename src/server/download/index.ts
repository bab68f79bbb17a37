/** The download API: one-time links GET /api/download/:guid/:token, files and zipped directories. */
export { FusionDownloadAPI } from './impl.js';
export type { CloudLink, FusionDownloadAPIOptions, PrepareCloudOptions } from './impl.js';
export { DOWNLOAD_DEFAULTS, parseDownloadConfig } from './config.js';
export type { FusionDownloadConfig } from './config.js';
export { contentDisposition, sanitizeFilename } from './content-disposition.js';
export { RESUME_TOKEN_HEADER } from './send.js';
