/** Test support for the TCP gateway: a log collector, raw peers and a bounded wait. */
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { FusionTcpClient } from '../../../src/client/tcp-client.js';
import type { FramingOptions, TcpFrame } from '../../../src/helper/framing.js';
import { createLogger } from '../../../src/helper/logging.js';
import type { FusionLogger } from '../../../src/helper/logging.js';
import { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';

/** Log lines a gateway wrote, parsed. */
export interface LogCollector {
  logger: FusionLogger;
  lines: Record<string, unknown>[];
}

/** A logger whose JSON lines land in `lines`. */
export function collectLogs(): LogCollector {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

/** A new gateway logging to a collector. */
export function newGateway(): { gateway: FusionTcpGateway; logs: LogCollector } {
  const logs = collectLogs();
  return { gateway: new FusionTcpGateway({ logger: logs.logger }), logs };
}

/** Resolves when `check` returns true (polled every 10 ms), rejects after `timeoutMs` with `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `probe` (every 20 ms) until `check` accepts its value, which it returns; rejects after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, check: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw socket peer that records every byte it receives and whether it was closed. */
export class RawPeer {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  readonly closedPromise: Promise<unknown>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    socket.on('error', () => undefined);
    this.closedPromise = once(socket, 'close').then(() => {
      this.closed = true;
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  /** Writes bytes and waits for them to be handed to the kernel. */
  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  /** The text received so far. */
  get text(): string {
    return this.received.toString('utf8');
  }

  /** Waits until the received text includes `needle`. */
  async waitForText(needle: string): Promise<void> {
    await until(() => this.text.includes(needle), `${JSON.stringify(needle)} from the gateway (got ${JSON.stringify(this.text.slice(-200))})`);
  }

  /** Destroys the socket and waits for its close. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closedPromise;
  }
}

/** A device: a FusionTcpClient (no reconnection) that sends `hello` on connect and records what it receives. */
export async function openDevice(port: number, hello: string, framing: FramingOptions = { type: 'line' }): Promise<{ client: FusionTcpClient; received: TcpFrame[] }> {
  const client = new FusionTcpClient({ port, framing, reconnect: false });
  const received: TcpFrame[] = [];
  client.onConnect(() => client.send(hello));
  client.onMessage((frame) => {
    received.push(frame);
  });
  await client.connect();
  return { client, received };
}
