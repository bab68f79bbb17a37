/** Registers the `case` section: its presence mounts FusionCaseAPI. */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'case',
  order: 40,
  async create(config) {
    const { FusionCaseAPI } = await import('./impl.js');
    return new FusionCaseAPI({ config: config.case! });
  },
});
