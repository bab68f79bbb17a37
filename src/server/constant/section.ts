/** Registers the `constant` section: its presence mounts FusionConstantAPI. */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'constant',
  order: 30,
  async create(config) {
    const { FusionConstantAPI } = await import('./impl.js');
    return new FusionConstantAPI({ path: config.constant!.path, authRequired: config.constant!.authRequired });
  },
});
