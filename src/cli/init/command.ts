/** `fusion init DIR`: scaffolds a service (see scaffold.ts). */
import { FUSION_VERSION } from '../../helper/version.js';
import type { CommandGroup } from '../command-group.js';
import { EXIT_CODES } from '../exit-codes.js';
import { action } from '../runtime.js';

/** Registers `fusion init`. */
export const initCommands: CommandGroup = (program, runtime) => {
  const { io } = runtime;
  program
    .command('init')
    .description('Create a new service in DIR: a Case subclass, an API with one route, an RPC method, a task, a config, a test, a README')
    .argument('<dir>', 'directory to create (must be empty or absent)')
    .option('--framework <spec>', 'the fusion-framework dependency in package.json (a range, or file:PATH.tgz)', `^${FUSION_VERSION}`)
    .option('--name <name>', 'npm package name (default: from DIR)')
    .option('--username <name>', 'the first user', 'admin')
    .action(
      action(runtime, async (command) => {
        const options = command.opts<{ framework: string; name?: string; username: string }>();
        const dir = command.processedArgs[0] as string;
        const { ScaffoldExistsError, scaffoldService } = await import('./scaffold.js');
        try {
          const result = await scaffoldService(dir, { framework: options.framework, username: options.username, ...(options.name === undefined ? {} : { name: options.name }) });
          io.stdout.write(
            [
              `created ${result.directory}:`,
              ...result.files.map((file) => `  ${file}`),
              '',
              `user ${result.username}, password in .fusion-password`,
              '',
              'next:',
              `  cd ${dir}`,
              '  npm install && npm test',
              '  npm start',
              '',
            ].join('\n'),
          );
          return 0;
        } catch (error) {
          if (!(error instanceof ScaffoldExistsError)) throw error;
          io.stderr.write(`fusion init: ${error.message}\n`);
          return EXIT_CODES.conflict;
        }
      }),
    );
};
