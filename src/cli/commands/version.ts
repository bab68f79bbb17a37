/** `fusion version`: prints the framework version. */
import { FUSION_VERSION } from '../../helper/version.js';
import type { FusionCommand } from '../command.js';

/** The `version` command. */
export const versionCommand: FusionCommand = {
  name: 'version',
  summary: 'Print the fusion-framework version',
  usage: 'fusion version',
  async run(): Promise<number> {
    process.stdout.write(`fusion-framework ${FUSION_VERSION}\n`);
    return 0;
  },
};
