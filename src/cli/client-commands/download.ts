/** `fusion download GUID TOKEN`: fetches a prepared download (FusionDownloadAPIClient) with progress. */
import { withConnectionOptions } from '../connection.js';
import { printResult } from '../output.js';
import { clientAction } from '../runtime.js';
import { runTransfer } from '../transfer.js';
import type { CommandGroup } from '../command-group.js';

/** Registers `fusion download`. */
export const downloadCommands: CommandGroup = (program, runtime) => {
  withConnectionOptions(
    program
      .command('download')
      .description('Fetch a prepared one-time download (GET /api/download/GUID/TOKEN), resuming a dropped connection')
      .argument('<guid>', 'download guid')
      .argument('<token>', 'download token')
      .option('-o, --output <path>', 'a file, or an existing directory (named from the server)', '.')
      .option('--no-progress', 'print no progress'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [guid, token] = command.processedArgs as [string, string];
      const options = command.opts<{ output: string; progress: boolean }>();
      const { FusionDownloadAPIClient } = await import('../../client/api/download.js');
      const api = new FusionDownloadAPIClient({ client });
      const result = await runTransfer(runtime.io.stderr, 'download', options.progress, (controls) => api.download({ guid, token }, options.output, controls), (done) => done.bytes);
      printResult(runtime.io.stdout, json, result, (value) => `${value.path}\n`);
    }),
  );
};
