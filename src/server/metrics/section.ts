/** Registers the `metrics` section: its presence mounts FusionMetricsAPI (the server parses the section). */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'metrics',
  order: 90,
  async create() {
    const { FusionMetricsAPI } = await import('./impl.js');
    return new FusionMetricsAPI();
  },
});
