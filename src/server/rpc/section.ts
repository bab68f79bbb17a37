/** Registers the `rpc` section: its presence mounts FusionRpcAPI (it reads the section in setup). */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'rpc',
  order: 70,
  async create() {
    const { FusionRpcAPI } = await import('./impl.js');
    return new FusionRpcAPI();
  },
});
