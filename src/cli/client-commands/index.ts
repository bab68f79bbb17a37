/**
 * The client command groups, one file each: add a group by adding its file here. Each talks to a running service through the typed clients.
 */
import type { CommandGroup } from '../command-group.js';
import { analysisCommands } from './analysis.js';
import { caseCommands } from './case.js';
import { cloudCommands } from './cloud.js';
import { downloadCommands } from './download.js';
import { eventsCommands } from './events.js';
import { infoCommands } from './info.js';
import { rpcCommands } from './rpc.js';
import { sessionCommands } from './session.js';

/** Every client command group, in the order `fusion help` lists them. */
export const CLIENT_COMMAND_GROUPS: readonly CommandGroup[] = [infoCommands, sessionCommands, caseCommands, eventsCommands, downloadCommands, cloudCommands, rpcCommands, analysisCommands];
