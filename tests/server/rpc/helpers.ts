/** Shared by the RPC tests: users, servers with the RPC API, a raw WebSocket probe, clients. */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { FusionRpcClient } from '../../../src/client/api/rpc.js';
import type { FusionRpcClientOptions, UntypedRpc } from '../../../src/client/api/rpc.js';
import { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import type { FusionRpcAPIOptions } from '../../../src/server/rpc/impl.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { createTestServer, mergeConfig } from '../../../src/testing/index.js';
import type { TestServer, TestServerOptions, TestUser } from '../../../src/testing/index.js';

export { silenceAudit, userHeaders } from '../event/helpers.js';

/** Polls `check` every 20 ms until it holds; rejects naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`until: ${what} not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** alice and bob (soc), eve (outsiders). */
export const USERS: TestUser[] = [
  { username: 'alice', password: 'alice-pw', groups: ['soc'] },
  { username: 'bob', password: 'bob-pw', groups: ['soc'] },
  { username: 'eve', password: 'eve-pw', groups: ['outsiders'] },
];

/** A test server with the RPC API. */
export interface RpcServer extends TestServer {
  rpc: FusionRpcAPI;
  /** `ws://127.0.0.1:PORT/api/rpc`. */
  wsUrl: string;
}

/** Options of startRpcServer. */
export interface StartRpcOptions {
  config?: Record<string, unknown>;
  api?: FusionRpcAPIOptions;
  server?: TestServerOptions;
  /** Declares methods and channels before the server starts. */
  declare?(rpc: FusionRpcAPI): void;
}

/** Starts a server on `storage` with USERS, the case API and an RPC API (`rpc` section from `config`). */
export async function startRpcServer(storage: FusionStorage, options: StartRpcOptions = {}): Promise<RpcServer> {
  const rpc = new FusionRpcAPI({ listen: { minDelayMs: 20, maxDelayMs: 200 }, ...options.api });
  options.declare?.(rpc);
  const server = await createTestServer({
    users: USERS,
    storage,
    ...options.server,
    apis: [rpc, ...(options.server?.apis ?? [])],
    config: mergeConfig({ rpc: {} }, options.config ?? {}),
  });
  return Object.assign(server, { rpc, wsUrl: `${server.baseUrl.replace(/^http/, 'ws')}/api/rpc` });
}

/** A FusionRpcClient authenticated with the server's API key (closed by the caller). */
export function serviceClient<D = UntypedRpc>(t: RpcServer, options: Partial<FusionRpcClientOptions> = {}): Promise<FusionRpcClient<D>> {
  return FusionRpcClient.connect<D>({ url: t.baseUrl, apiKey: t.apiKey, reconnect: { minDelayMs: 20, maxDelayMs: 200 }, ...options });
}

/** A FusionRpcClient logged in as `username` through its session cookie. */
export async function userClient<D = UntypedRpc>(t: RpcServer, username: string, options: Partial<FusionRpcClientOptions> = {}): Promise<FusionRpcClient<D>> {
  const clients = await t.login(username);
  const name = t.config.auth?.cookie.name ?? 'FUSION_SESSION';
  return FusionRpcClient.connect<D>({ url: t.baseUrl, cookie: `${name}=${clients.client.sessionCookie ?? ''}`, reconnect: { minDelayMs: 20, maxDelayMs: 200 }, ...options });
}

/** A parsed frame as the probe keeps it. */
export type ProbeFrame = Record<string, unknown> & { id?: unknown; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { code: number; message: string; data?: { code: string } } };

/** A bare `ws` socket that keeps every frame, for wire-level tests. */
export class WsProbe {
  readonly frames: ProbeFrame[] = [];
  readonly socket: WebSocket;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data: RawData) => {
      this.frames.push(JSON.parse(data.toString()) as ProbeFrame);
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters) wake();
      });
    });
    socket.on('error', () => undefined);
  }

  /** Opens a socket; rejects with `{status, body}` when the upgrade is refused. */
  static open(url: string, headers: Record<string, string> = {}, origin?: string): Promise<WsProbe> {
    const socket = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsProbe(socket)));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          socket.terminate();
          reject(Object.assign(new Error(`HTTP ${response.statusCode}: ${body}`), { status: response.statusCode, body: JSON.parse(body) as unknown }));
        });
      });
      socket.once('error', reject);
    });
  }

  /** Sends a frame (an object is JSON-encoded; a string is sent as is). */
  send(frame: unknown, options: { binary?: boolean } = {}): void {
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame), { binary: options.binary ?? false });
  }

  /** Waits for a frame matching `predicate`. */
  async next(predicate: (frame: ProbeFrame) => boolean, timeoutMs = 15_000): Promise<ProbeFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) throw new Error(`WsProbe: no matching frame after ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 200));
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits for the answer to request `id`. */
  answer(id: number | string | null): Promise<ProbeFrame> {
    return this.next((frame) => frame.id === id && ('result' in frame || 'error' in frame));
  }

  /** Sends a request and waits for its answer. */
  async call(id: number, method: string, params?: unknown): Promise<ProbeFrame> {
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return this.answer(id);
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    this.socket.terminate();
  }
}
