/** Registers the `info` section: its presence mounts FusionInfoAPI. */
import { Info } from '../../concept/index.js';
import { FUSION_VERSION } from '../../helper/version.js';
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'info',
  order: 20,
  async create(config) {
    const { FusionInfoAPI } = await import('./impl.js');
    const info = new Info({ api: config.info!.api ?? 'fusion', version: config.info!.version ?? FUSION_VERSION });
    return new FusionInfoAPI(info, { authRequired: config.info!.authRequired });
  },
});
