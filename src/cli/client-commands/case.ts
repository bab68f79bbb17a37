/** `fusion case list|get|create|update|delete|attach`: the case API (FusionCaseAPIClient). */
import type { Command } from 'commander';
import type { FusionCaseAPIClient } from '../../client/api/case.js';
import type { FusionClient } from '../../client/client.js';
import type { Case } from '../../concept/index.js';
import { withConnectionOptions } from '../connection.js';
import { CliUsageError } from '../exit-codes.js';
import { formatRecord, formatTable, printResult } from '../output.js';
import { clientAction } from '../runtime.js';
import type { CommandGroup } from '../command-group.js';

interface CaseFieldOptions {
  name?: string;
  description?: string;
  acs?: string[];
  tsid?: string;
  webhook?: string[];
  data?: string;
  close?: boolean;
}

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

function withCaseFields(command: Command): Command {
  return command
    .option('--name <name>', 'case name')
    .option('--description <text>', 'description')
    .option('--acs <groups>', 'groups that may access the case (comma-separated, repeatable)', list)
    .option('--tsid <id>', 'external ticket or timesketch id')
    .option('--webhook <url>', 'webhook URL notified of case events (repeatable)', list)
    .option('--data <json>', "more fields as a JSON object (e.g. a service's own case fields)");
}

/** The wire object the field options describe (`--data` first, the named options over it). */
function fieldsOf(options: CaseFieldOptions): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  if (options.data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.data);
    } catch (error) {
      throw new CliUsageError(`--data: not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliUsageError('--data: expected a JSON object');
    fields = parsed as Record<string, unknown>;
  }
  if (options.name !== undefined) fields.name = options.name;
  if (options.description !== undefined) fields.description = options.description;
  if (options.acs !== undefined) fields.acs = options.acs;
  if (options.tsid !== undefined) fields.tsid = options.tsid;
  if (options.webhook !== undefined) fields.webhooks = options.webhook;
  if (options.close === true) fields.closed = new Date().toISOString();
  return fields;
}

function caseRecord(value: Case): string {
  return formatRecord(value.toJSON());
}

function casesTable(cases: readonly Case[]): string {
  return formatTable(
    ['guid', 'name', 'managed', 'created', 'closed', 'acs'],
    cases.map((c) => {
      const w = c.toJSON();
      return [w.guid, w.name, w.managed, w.created, w.closed, w.acs];
    }),
  );
}

/** The case client (loaded on use: `fusion --help` does not pay for the concepts). */
async function cases(client: FusionClient): Promise<FusionCaseAPIClient> {
  const { FusionCaseAPIClient } = await import('../../client/api/case.js');
  return new FusionCaseAPIClient({ client });
}

/** Registers `fusion case ...`. */
export const caseCommands: CommandGroup = (program, runtime) => {
  const group = program.command('case').description('List, read, create, update, delete and attach cases');
  const out = runtime.io.stdout;

  withConnectionOptions(group.command('list').description('List the cases you may access (GET /api/cases)')).action(
    clientAction(runtime, async ({ client, json }) => {
      printResult(out, json, await (await cases(client)).enumerateCases(), casesTable);
    }),
  );

  withConnectionOptions(group.command('get').description('Show one case (GET /api/case/GUID)').argument('<guid>', 'case guid')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      printResult(out, json, await (await cases(client)).retrieveCase(command.processedArgs[0] as string), caseRecord);
    }),
  );

  withConnectionOptions(withCaseFields(group.command('create').description('Create a case (POST /api/case); prints it as stored')))
    .option('--guid <guid>', 'the new case guid (default: the server picks one)')
    .action(
      clientAction(runtime, async ({ client, json }, command) => {
        const options = command.opts<CaseFieldOptions & { guid?: string }>();
        const fields = fieldsOf(options);
        if (options.guid !== undefined) fields.guid = options.guid;
        if (typeof fields.name !== 'string') throw new CliUsageError('--name is required (or a "name" in --data)');
        printResult(out, json, await (await cases(client)).createCase(fields as { name: string }), caseRecord);
      }),
    );

  withConnectionOptions(withCaseFields(group.command('update').description('Change a case (PUT /api/case/GUID): only the given fields')))
    .argument('<guid>', 'case guid')
    .option('--close', 'close the case (a closed case refuses further updates)')
    .action(
      clientAction(runtime, async ({ client, json }, command) => {
        const fields = fieldsOf(command.opts<CaseFieldOptions>());
        if (Object.keys(fields).length === 0) throw new CliUsageError('nothing to update: give at least one of --name, --description, --acs, --tsid, --webhook, --data, --close');
        printResult(out, json, await (await cases(client)).updateCase(command.processedArgs[0] as string, fields), caseRecord);
      }),
    );

  withConnectionOptions(group.command('delete').description('Delete a case (DELETE /api/case/GUID; needs auth.can_delete_acs)').argument('<guid>', 'case guid')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const guid = command.processedArgs[0] as string;
      await (await cases(client)).deleteCase(guid);
      printResult(out, json, { deleted: guid }, () => `deleted ${guid}\n`);
    }),
  );

  withConnectionOptions(
    group
      .command('attach')
      .description('Attach a case to a managing case (PUT /api/case/GUID/attach/NEXT_GUID; API key only)')
      .argument('<guid>', 'case guid')
      .argument('<next-guid>', 'the guid the case takes in the managing service'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [guid, next] = command.processedArgs as [string, string];
      printResult(out, json, await (await cases(client)).attachCase(guid, next), caseRecord);
    }),
  );
};
