/** `fusion info`: the service's name and version (GET /api/info). */
import { withConnectionOptions } from '../connection.js';
import { formatRecord, printResult, wire } from '../output.js';
import { clientAction } from '../runtime.js';
import type { CommandGroup } from '../command-group.js';

/** Registers `fusion info`. */
export const infoCommands: CommandGroup = (program, runtime) => {
  withConnectionOptions(program.command('info').description("Show the service's name and version (GET /api/info)")).action(
    clientAction(runtime, async ({ client, json }) => {
      const { FusionInfoAPIClient } = await import('../../client/api/info.js');
      const info = await new FusionInfoAPIClient({ client }).info();
      printResult(runtime.io.stdout, json, info, (value) => formatRecord(wire(value) as Record<string, unknown>));
    }),
  );
};
