/**
 * The connection options every client command takes (`--url`, `--api-key`, `--json`, with
 * FUSION_URL / FUSION_API_KEY) and the FusionClient they open: with the API key when one is
 * given, else with the session `fusion login` kept for that URL.
 */
import type { Command } from 'commander';
import type { FusionClient } from '../client/client.js';
import type { CliIO } from './cli-io.js';
import { CliUsageError } from './exit-codes.js';
import { readSession, sessionFilePath } from './session-store.js';
import type { StoredSession } from './session-store.js';

/** The parsed connection options of a client command. */
export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** An open connection to a service; close it when done. */
export interface Connection {
  client: FusionClient;
  /** The service URL in use. */
  url: string;
  /** The stored session used (null with an API key or without a login). */
  session: StoredSession | null;
  /** The API key in use (undefined with a session or none). */
  apiKey: string | undefined;
  /** The `Cookie` header of the stored session in use (undefined without one). */
  cookie: string | undefined;
  /** Print JSON rather than tables. */
  json: boolean;
}

/** Adds `--url`, `--api-key` and `--json` to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'service URL (default: $FUSION_URL, else the URL of `fusion login`)')
    .option('--api-key <key>', 'API key sent as X-Fusion-API-Token (default: $FUSION_API_KEY)')
    .option('--json', 'print JSON instead of a table');
}

function sameService(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Opens a FusionClient from the options, the environment and the stored session. */
export async function connect(io: CliIO, options: ConnectionOptions): Promise<Connection> {
  const stored = await readSession(sessionFilePath(io.env));
  const url = options.url ?? io.env.FUSION_URL ?? stored?.url;
  if (!url) throw new CliUsageError('no service URL: pass --url URL, set FUSION_URL, or run `fusion login --url URL` first');
  const apiKey = options.apiKey ?? (io.env.FUSION_API_KEY || undefined);
  const session = apiKey === undefined && stored !== null && sameService(stored.url, url) ? stored : null;
  const cookie = session ? `${session.cookieName}=${session.cookie}` : undefined;
  const headers = cookie === undefined ? undefined : { cookie };
  const { FusionClient } = await import('../client/client.js');
  let client: FusionClient;
  try {
    client = new FusionClient({ baseUrl: url, ...(apiKey === undefined ? {} : { apiKey }), ...(headers ? { headers } : {}) });
  } catch (error) {
    throw new CliUsageError((error as Error).message.replace(/^FusionClient: baseUrl/, '--url'));
  }
  return { client, url, session, apiKey, cookie, json: options.json === true };
}
