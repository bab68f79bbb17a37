/**
 * A real TCP proxy on 127.0.0.1:0 that forwards to a server and, when armed, destroys the
 * connection of the next request after N bytes of the server's answer have passed: a dropped connection mid-body,
 * without mocking anything. It also records the request heads it forwarded.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

/** A running cutting proxy. */
export interface CuttingProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Cut the connection of the next request once `bytes` bytes of its answer (headers included) have been forwarded. */
  cutNextAfter(bytes: number): void;
  /** How many connections were cut so far. */
  readonly cuts: number;
  /** The request heads seen (request line and headers, lowercased names), in order. */
  readonly requests: { line: string; headers: Record<string, string> }[];
  close(): Promise<void>;
}

function parseHead(text: string): { line: string; headers: Record<string, string> } {
  const [line = '', ...rest] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const item of rest) {
    const colon = item.indexOf(':');
    if (colon > 0) headers[item.slice(0, colon).trim().toLowerCase()] = item.slice(colon + 1).trim();
  }
  return { line, headers };
}

/** Starts a proxy in front of `target` (`http://127.0.0.1:PORT`). */
export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const requests: { line: string; headers: Record<string, string> }[] = [];
  let armed: number | null = null;
  let cuts = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    let cutAfter: number | null = null;
    let forwarded = 0;
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end = pending.indexOf('\r\n\r\n');
      while (end >= 0) {
        requests.push(parseHead(pending.slice(0, end)));
        if (armed !== null && cutAfter === null) {
          cutAfter = forwarded + armed;
          armed = null;
        }
        pending = pending.slice(end + 4); // GET requests carry no body
        end = pending.indexOf('\r\n\r\n');
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutAfter !== null && forwarded + chunk.length >= cutAfter) {
        const part = chunk.subarray(0, Math.max(0, cutAfter - forwarded));
        forwarded = cutAfter;
        cuts++;
        client.end(part, () => client.destroy());
        upstream.destroy();
        return;
      }
      forwarded += chunk.length;
      client.write(chunk);
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxyPort = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    cutNextAfter(bytes: number) {
      armed = bytes;
    },
    get cuts() {
      return cuts;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
