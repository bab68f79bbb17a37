/** Registers the `auth` section: its presence mounts FusionAuthAPI, first of the built-ins. */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'auth',
  order: 10,
  async create(config) {
    const { FusionAuthAPI } = await import('./impl.js');
    return new FusionAuthAPI({ config: config.auth! });
  },
});
