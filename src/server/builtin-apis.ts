/** The built-in APIs FusionServer.fromConfig mounts, one per config section present, auth first. */
import { Info } from '../concept/index.js';
import type { FusionAPI } from './api.js';
import type { FusionConfig } from './config.js';
import { FUSION_VERSION } from '../helper/version.js';

/** Builds the APIs whose sections are present in `config`: auth, info, constant, case, download, event (in this order). */
export async function builtinApis(config: FusionConfig): Promise<FusionAPI[]> {
  const apis: FusionAPI[] = [];
  if (config.auth) {
    const { FusionAuthAPI } = await import('./auth/impl.js');
    apis.push(new FusionAuthAPI({ config: config.auth }));
  }
  if (config.info) {
    const { FusionInfoAPI } = await import('./info/impl.js');
    const info = new Info({ api: config.info.api ?? 'fusion', version: config.info.version ?? FUSION_VERSION });
    apis.push(new FusionInfoAPI(info, { authRequired: config.info.authRequired }));
  }
  if (config.constant) {
    const { FusionConstantAPI } = await import('./constant/impl.js');
    apis.push(new FusionConstantAPI({ path: config.constant.path, authRequired: config.constant.authRequired }));
  }
  if (config.case) {
    const { FusionCaseAPI } = await import('./case/impl.js');
    apis.push(new FusionCaseAPI({ config: config.case }));
  }
  if (config.download) {
    const { FusionDownloadAPI } = await import('./download/impl.js');
    apis.push(new FusionDownloadAPI({ ...config.download }));
  }
  if (config.raw.event !== undefined) {
    const { FusionEventAPI } = await import('./event/impl.js');
    apis.push(new FusionEventAPI());
  }
  return apis;
}
