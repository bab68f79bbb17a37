/** Registers the `download` section: its presence mounts FusionDownloadAPI. */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'download',
  order: 50,
  async create(config) {
    const { FusionDownloadAPI } = await import('./impl.js');
    return new FusionDownloadAPI({ ...config.download! });
  },
});
