/** Registers the `analyzers` section: its presence mounts FusionAnalysisAPI (it reads the section in setup). */
import { registerApiSection } from '../api-registry.js';

registerApiSection({
  section: 'analyzers',
  order: 70,
  async create() {
    const { FusionAnalysisAPI } = await import('./impl.js');
    return new FusionAnalysisAPI();
  },
});
