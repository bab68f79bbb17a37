/** Registers the `tcp` section: its presence mounts FusionTcpAPI (its listeners come from `tcp.listeners[]`). */
import { registerApiSection } from '../api-registry.js';
import { readTcpConfig } from './config.js';

registerApiSection({
  section: 'tcp',
  order: 90,
  async create(config) {
    const { FusionTcpAPI } = await import('./impl.js');
    return new FusionTcpAPI({ config: readTcpConfig(config.raw.tcp ?? {}, { baseDir: config.baseDir }) });
  },
});
