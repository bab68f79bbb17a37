/** Builds the AnalysisContext of one run: its directory, log file, output directory and subprocess runner. */
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Case } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import { runSubprocess } from '../../helper/subprocess.js';
import type { FusionStorage } from '../storage/storage.js';
import type { AnalysisContext } from './analyzer.js';

/** Where the files of an analysis live under `root`. */
export function analysisPaths(root: string, caseGuid: string, analyzer: string): { directory: string; logFile: string; outputDirectory: string; archive: string } {
  const directory = join(root, caseGuid, analyzer);
  return { directory, logFile: join(directory, 'analysis.log'), outputDirectory: join(directory, 'output'), archive: join(directory, 'output.zip') };
}

/** What a context is made of. */
export interface ContextParts {
  root: string;
  caseObj: Case | null;
  caseGuid: string;
  analyzer: string;
  signal: AbortSignal;
  storage: FusionStorage;
  logger: FusionLogger;
  extra: Readonly<Record<string, unknown>>;
  /** Clock time (ms) at which the analysis times out. */
  deadline: number;
}

/** Prepares the directories (output emptied) and returns the context. */
export async function createAnalysisContext(parts: ContextParts): Promise<AnalysisContext> {
  const paths = analysisPaths(parts.root, parts.caseGuid, parts.analyzer);
  await rm(paths.outputDirectory, { recursive: true, force: true });
  await rm(paths.archive, { force: true });
  await mkdir(paths.outputDirectory, { recursive: true });
  const log = (line: string): Promise<void> => appendFile(paths.logFile, `${new Date().toISOString()} ${line}\n`);
  return {
    case: parts.caseObj,
    signal: parts.signal,
    storage: parts.storage,
    extra: parts.extra,
    logger: parts.logger,
    directory: paths.directory,
    outputDirectory: paths.outputDirectory,
    logFile: paths.logFile,
    log,
    async run(argv, options = {}) {
      const remaining = parts.deadline - Date.now();
      await log(`$ ${argv.join(' ')}`);
      try {
        const result = await runSubprocess(argv, { ...options, stdio: 'capture', signal: parts.signal, timeout: Math.max(1, remaining), killGrace: options.killGrace ?? 2000 });
        if (result.stdout) await appendFile(paths.logFile, result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
        if (result.stderr) await appendFile(paths.logFile, result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
        await log(`exit ${result.code ?? result.signal}`);
        if (result.code !== 0) {
          throw new FusionError('FUSION_ERR_SUBPROCESS', `command '${argv[0]}' ended with ${result.code === null ? `signal ${result.signal}` : `exit code ${result.code}`}`);
        }
        return result;
      } catch (error) {
        if ((error as FusionError).code !== 'FUSION_ERR_SUBPROCESS') await log(`command failed: ${(error as Error).message}`);
        throw error;
      }
    },
  };
}
