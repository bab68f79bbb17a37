/** Registers the `event` section: its presence mounts FusionEventAPI (it reads the section in setup). */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'event',
  order: 60,
  async create() {
    const { FusionEventAPI } = await import('./impl.js');
    return new FusionEventAPI();
  },
});
