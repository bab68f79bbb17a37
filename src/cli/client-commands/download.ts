/** `fusion download GUID TOKEN`: fetches a prepared download (FusionDownloadAPIClient) with progress. */
import { withConnectionOptions } from '../connection.js';
import { printResult } from '../output.js';
import type { ProgressReporter } from '../progress.js';
import { clientAction } from '../runtime.js';
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
      const { createProgress } = await import('../progress.js');
      const progress: ProgressReporter | null = options.progress ? createProgress(runtime.io.stderr, 'download') : null;
      const controller = new AbortController();
      const stop = (): void => controller.abort(new Error('interrupted'));
      process.once('SIGINT', stop);
      try {
        const result = await new FusionDownloadAPIClient({ client }).download({ guid, token }, options.output, {
          signal: controller.signal,
          ...(progress ? { onProgress: (bytes: number, total: number | null) => progress.update(bytes, total) } : {}),
        });
        progress?.finish(result.bytes);
        printResult(runtime.io.stdout, json, result, (value) => `${value.path}\n`);
      } catch (error) {
        progress?.abort();
        throw error;
      } finally {
        process.removeListener('SIGINT', stop);
      }
    }),
  );
};
