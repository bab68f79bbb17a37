/**
 * One HTTP exchange over a real loopback socket, byte for byte as given: what a hostile client
 * sends (no client library fixes anything up), with optional pauses between the parts. The
 * answer is parsed from the raw bytes; the socket is always closed, within a bound.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A parsed raw answer. */
export interface RawExchange {
  /** 0 when no status line came back. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The envelope when the body is JSON, else null. */
  json: Record<string, unknown> | null;
  /** A write error seen while sending (EPIPE, ECONNRESET), if any. */
  writeError: string | null;
}

/** A part of a request: bytes, or a pause in milliseconds (a slow client), or 'hold' (stop sending, keep the socket open). */
export type RequestPart = string | Buffer | { pauseMs: number } | 'hold';

/** Sends `parts` to 127.0.0.1:`port` and reads until the server closes or a whole answer arrived (at most `timeoutMs`). */
export function exchange(port: number, parts: RequestPart | RequestPart[], timeoutMs = 30_000): Promise<RawExchange> {
  const list = Array.isArray(parts) ? parts : [parts];
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let writeError: string | null = null;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(parse(Buffer.concat(chunks), writeError));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks))) finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      writeError ??= error.code ?? error.message;
    });
    socket.on('close', () => finish());
    void (async () => {
      for (const part of list) {
        if (settled || socket.destroyed) return;
        if (part === 'hold') return;
        if (typeof part === 'object' && !Buffer.isBuffer(part)) {
          await new Promise((r) => setTimeout(r, part.pauseMs));
          continue;
        }
        const flushed = socket.write(part);
        if (!flushed) await new Promise<void>((r) => {
          socket.once('drain', r);
          socket.once('close', r);
        });
      }
    })().catch((error: unknown) => {
      writeError ??= String(error);
    });
  });
}

/** `data` without the interim (1xx) answers before the final one. */
function finalAnswer(data: Buffer): Buffer {
  let rest = data;
  while (/^HTTP\/1\.[01] 1\d\d/.test(rest.subarray(0, 12).toString('latin1'))) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return rest;
    rest = rest.subarray(end + 4);
  }
  return rest;
}

/** True once `data` holds a final status line, headers and a body as long as Content-Length says. */
function complete(all: Buffer): boolean {
  const data = finalAnswer(all);
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  return length !== null && data.length >= end + 4 + Number(length[1]);
}

function parse(all: Buffer, writeError: string | null): RawExchange {
  const data = finalAnswer(all);
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: data.toString('utf8'), json: null, writeError };
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = data.subarray(end + 4, headers['content-length'] === undefined ? undefined : end + 4 + Number(headers['content-length'])).toString('utf8');
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status, headers, body, json, writeError };
}

/** A request head: `METHOD path HTTP/1.1`, Host, the given headers, Connection: close, and a Content-Length when there is a body. */
export function head(method: string, path: string, headers: Record<string, string> = {}, bodyLength?: number): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (bodyLength !== undefined) lines.push(`Content-Length: ${bodyLength}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A whole request with a body (Content-Length computed). */
export function withBody(method: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(head(method, path, headers, bytes.length), 'latin1'), bytes]);
}
