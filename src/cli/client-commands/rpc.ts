/**
 * `fusion rpc call METHOD [JSON]`: one JSON-RPC call over the service's WebSocket (FusionRpcClient),
 * authenticated like the other commands; `--stream` prints a streaming method's items as they come.
 */
import { InvalidArgumentError } from 'commander';
import type { CommandGroup } from '../command-group.js';
import { withConnectionOptions } from '../connection.js';
import { CliUsageError } from '../exit-codes.js';
import { formatRecord, formatTable } from '../output.js';
import { clientAction } from '../runtime.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds > 0');
  return n;
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`params: not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CliUsageError('params: expected a JSON object (or array)');
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A result as text: a string as is, a record as lines, a list of records as a table, anything else as JSON. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value.endsWith('\n') ? value : `${value}\n`;
  if (isRecord(value) && Object.keys(value).length > 0) return formatRecord(value);
  if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) {
    const columns = [...new Set(value.flatMap((row) => Object.keys(row)))];
    return formatTable(columns, value.map((row) => columns.map((column) => row[column])));
  }
  return `${JSON.stringify(value ?? null)}\n`;
}

/** Registers `fusion rpc call`. */
export const rpcCommands: CommandGroup = (program, runtime) => {
  const group = program.command('rpc').description("Call the service's JSON-RPC methods (GET /api/rpc, WebSocket)");
  withConnectionOptions(
    group
      .command('call')
      .description('Call METHOD with JSON params (an object; default {}) and print its result')
      .argument('<method>', 'method name, e.g. ticket.count')
      .argument('[params]', 'params as JSON, e.g. \'{"status": "open"}\'')
      .option('--stream', "print a streaming method's items as they come (one JSON line each), then its result")
      .option('--timeout <seconds>', 'give up after this long (default 30)', seconds),
  ).action(
    clientAction(runtime, async ({ url, apiKey, cookie, json }, command) => {
      const [method, text] = command.processedArgs as [string, string | undefined];
      const params = parseParams(text);
      const options = command.opts<{ stream?: boolean; timeout?: number }>();
      const { FusionRpcClient } = await import('../../client/api/rpc.js');
      const rpc = new FusionRpcClient({
        url,
        reconnect: false,
        clientType: 'cli',
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(cookie === undefined ? {} : { cookie }),
        ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 }),
      });
      try {
        let result: unknown;
        if (options.stream) {
          const stream = rpc.stream(method, params as Record<string, unknown>);
          for await (const item of stream) runtime.io.stdout.write(`${JSON.stringify(item ?? null)}\n`);
          result = await stream.result;
        } else {
          result = await rpc.call(method, params as Record<string, unknown>);
        }
        runtime.io.stdout.write(json ? `${JSON.stringify(result ?? null, null, 2)}\n` : asText(result));
      } finally {
        await rpc.close();
      }
    }),
  );
};
