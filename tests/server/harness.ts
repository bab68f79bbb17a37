/**
 * Test kit of the server-core suites: a real FusionServer on 127.0.0.1 (port 0) over a shared
 * migrated PGlite storage, our real FusionClient, and the server's log lines captured.
 */
import { Writable } from 'node:stream';
import { FusionClient } from '../../src/client/client.js';
import type { FusionClientOptions } from '../../src/client/client-options.js';
import { createLogger } from '../../src/helper/logging.js';
import type { FusionAPI } from '../../src/server/api.js';
import { parseConfig } from '../../src/server/config.js';
import { FusionServer } from '../../src/server/server.js';
import type { FusionStorage } from '../../src/server/storage/storage.js';

/** A running server, a client on it and its log lines (JSON objects). */
export interface Harness {
  server: FusionServer;
  url: string;
  client: FusionClient;
  logs: Record<string, unknown>[];
  /** A new client on this server (closed by close()). */
  connect(options?: Omit<FusionClientOptions, 'baseUrl'>): FusionClient;
  close(): Promise<void>;
}

/** Options of startServer. */
export interface HarnessOptions {
  /** Config document merged over `{ storage: { url: 'memory://' } }`. */
  config?: Record<string, unknown>;
  apis?: FusionAPI[];
  /** Shared open storage (left open); without it the server opens `storage.url`. */
  storage?: FusionStorage;
}

/** A Writable collecting JSON log lines. */
export function logSink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

/** Starts a server with `apis` and returns it with a client. */
export async function startServer(options: HarnessOptions = {}): Promise<Harness> {
  const { stream, lines } = logSink();
  const config = parseConfig({ storage: { url: 'memory://' }, ...options.config });
  const server = new FusionServer({
    config,
    apis: options.apis ?? [],
    logger: createLogger({ stream, level: 'info' }),
    ...(options.storage ? { storage: options.storage } : {}),
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const clients: FusionClient[] = [];
  const connect = (clientOptions: Omit<FusionClientOptions, 'baseUrl'> = {}): FusionClient => {
    const client = new FusionClient({ baseUrl: url, ...clientOptions });
    clients.push(client);
    return client;
  };
  return {
    server,
    url,
    client: connect(),
    logs: lines,
    connect,
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.close();
    },
  };
}
