/** `fusion analysis analyzers|queue|list|get|log`: the analyses of a case (FusionAnalysisAPIClient). */
import { Option } from 'commander';
import type { FusionAnalysisAPIClient } from '../../client/api/analysis.js';
import type { FusionClient } from '../../client/client.js';
import type { Analysis, AnalysisPriority, AnalyzerInfo } from '../../concept/index.js';
import type { CommandGroup } from '../command-group.js';
import { withConnectionOptions } from '../connection.js';
import { formatRecord, formatTable, printResult } from '../output.js';
import { clientAction } from '../runtime.js';

async function analyses(client: FusionClient): Promise<FusionAnalysisAPIClient> {
  const { FusionAnalysisAPIClient } = await import('../../client/api/analysis.js');
  return new FusionAnalysisAPIClient({ client });
}

function analysisRecord(value: Analysis): string {
  return formatRecord(value.toJSON());
}

function analysesTable(list: readonly Analysis[]): string {
  return formatTable(
    ['analyzer', 'status', 'priority', 'created', 'started', 'finished', 'error'],
    list.map((a) => {
      const w = a.toJSON();
      return [w.analyzer, w.status, w.priority, w.created, w.started, w.finished, w.error];
    }),
  );
}

function analyzersTable(list: readonly AnalyzerInfo[]): string {
  return formatTable(['name', 'version', 'tags'], list.map((info) => [info.name, info.version, info.tags]));
}

/** Registers `fusion analysis ...`. */
export const analysisCommands: CommandGroup = (program, runtime) => {
  const group = program.command('analysis').description('Queue analyses of a case and read their status and logs');
  const out = runtime.io.stdout;

  withConnectionOptions(group.command('analyzers').description('List the enabled analyzers (GET /api/config/analyzers)')).action(
    clientAction(runtime, async ({ client, json }) => {
      printResult(out, json, await (await analyses(client)).enumerateAnalyzers(), analyzersTable);
    }),
  );

  withConnectionOptions(
    group
      .command('queue')
      .description('Queue ANALYZER on a case (again, once finished) (PUT /api/case/GUID/analysis/ANALYZER)')
      .argument('<case-guid>', 'case guid')
      .argument('<analyzer>', 'analyzer name (see `fusion analysis analyzers`)')
      .addOption(new Option('--priority <priority>', 'scheduling priority').choices(['low', 'medium', 'high'])),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [guid, analyzer] = command.processedArgs as [string, string];
      const { priority } = command.opts<{ priority?: AnalysisPriority }>();
      printResult(out, json, await (await analyses(client)).queueAnalysis(guid, analyzer, priority === undefined ? {} : { priority }), analysisRecord);
    }),
  );

  withConnectionOptions(group.command('list').description('List the analyses of a case (GET /api/case/GUID/analyses)').argument('<case-guid>', 'case guid')).action(
    clientAction(runtime, async ({ client, json }, command) => {
      printResult(out, json, await (await analyses(client)).enumerateAnalyses(command.processedArgs[0] as string), analysesTable);
    }),
  );

  withConnectionOptions(
    group.command('get').description('Show one analysis (GET /api/case/GUID/analysis/ANALYZER)').argument('<case-guid>', 'case guid').argument('<analyzer>', 'analyzer name'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [guid, analyzer] = command.processedArgs as [string, string];
      printResult(out, json, await (await analyses(client)).retrieveAnalysis(guid, analyzer), analysisRecord);
    }),
  );

  withConnectionOptions(
    group.command('log').description("Print an analysis's log (GET /api/case/GUID/analysis/ANALYZER/log)").argument('<case-guid>', 'case guid').argument('<analyzer>', 'analyzer name'),
  ).action(
    clientAction(runtime, async ({ client, json }, command) => {
      const [guid, analyzer] = command.processedArgs as [string, string];
      const log = await (await analyses(client)).retrieveLog(guid, analyzer);
      printResult(out, json, { case_guid: guid, analyzer, log }, (value) => value.log);
    }),
  );
};
