/** The analyzer runtime: analyses queued on pg-boss, worker pools, the analysis routes. */
export { FusionAnalysisAPI } from './impl.js';
export type { QueueAnalysisBody } from './impl.js';
export { FusionAnalyzerPool } from './pool.js';
export type { AnalyzerPoolOptions, AnalyzerPoolEvents } from './pool.js';
export { defineAnalyzer } from './analyzer.js';
export type { AnalysisContext, FusionAnalyzer } from './analyzer.js';
export { ANALYZER_DEFAULTS, readAnalyzersConfig } from './config.js';
export type { AnalyzerSettings, FusionAnalyzersConfig } from './config.js';
export { PRIORITY_RANK, analyzerQueue } from './queue.js';
