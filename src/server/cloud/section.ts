/** Registers the `cloud` section: its presence mounts FusionCloudAPI (its factory checks the section). */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'cloud',
  order: 70,
  async create(config) {
    const { FusionCloudAPI } = await import('./impl.js');
    const { readCloudConfig } = await import('./config.js');
    return new FusionCloudAPI({ config: readCloudConfig(config.raw.cloud, { baseDir: config.baseDir }) });
  },
});
