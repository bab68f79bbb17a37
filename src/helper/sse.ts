/**
 * Server-Sent Events wire format (WHATWG HTML, "event stream" section): `formatSseMessage`
 * writes one message, `SseParser` reads a stream of them back, chunk by chunk.
 */

/** One message of an event stream. */
export interface SseMessage {
  /** `event:` field; 'message' when the message had none. */
  event: string;
  /** `data:` lines joined with '\n'. */
  data: string;
  /** The last event id after this message (`id:` of this one or an earlier one), or '' when none was sent. */
  lastEventId: string;
  /** True when this message carried an `id:` field itself. */
  hasId: boolean;
}

/** Fields of a message to write. */
export interface SseOutgoing {
  /** `id:` (must not contain a newline or NUL). */
  id?: string;
  /** `event:` (must not contain a newline). */
  event?: string;
  /** Payload; every line of it becomes a `data:` line. */
  data: string;
  /** `retry:` reconnection delay in milliseconds. */
  retry?: number;
}

const NEWLINE = /\r\n|\r|\n/;

/** The text of one message, ending with the blank line that dispatches it. */
export function formatSseMessage(message: SseOutgoing): string {
  let out = '';
  if (message.retry !== undefined) {
    if (!Number.isInteger(message.retry) || message.retry < 0) throw new RangeError(`SSE retry must be a non-negative integer, got ${message.retry}`);
    out += `retry: ${message.retry}\n`;
  }
  if (message.id !== undefined) {
    if (/[\r\n\0]/.test(message.id)) throw new RangeError('SSE id must not contain a newline or NUL');
    out += `id: ${message.id}\n`;
  }
  if (message.event !== undefined) {
    if (/[\r\n]/.test(message.event)) throw new RangeError('SSE event name must not contain a newline');
    out += `event: ${message.event}\n`;
  }
  for (const line of message.data.split(NEWLINE)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line (`: text`): ignored by clients, keeps idle connections open through proxies. */
export function formatSseComment(text: string): string {
  return `${text.split(NEWLINE).map((line) => `: ${line}`).join('\n')}\n\n`;
}

/**
 * Incremental event-stream parser. Feed it decoded text in any chunking; it returns the
 * messages completed by each chunk. Comments are dropped; `retry:` updates `retry`.
 */
export class SseParser {
  /** Last `retry:` value seen, in milliseconds (null before any). */
  retry: number | null = null;
  #buffer = '';
  #pendingCr = false;
  #started = false;
  #data: string[] = [];
  #event = '';
  #hasId = false;
  #lastEventId: string;

  /** `lastEventId`: the id to start from (e.g. the one sent in Last-Event-ID). */
  constructor(lastEventId = '') {
    this.#lastEventId = lastEventId;
  }

  /** The last event id seen so far ('' if none). */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Parses `chunk`; returns the messages it completed, in order. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1); // the \n of a \r\n split across chunks
    this.#pendingCr = false;
    const messages: SseMessage[] = [];
    let buffer = this.#buffer + text;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(buffer.slice(start, i), messages);
      if (c === 13) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#pendingCr = true;
        }
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    this.#buffer = buffer;
    return messages;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (name) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.#lastEventId = value;
          this.#hasId = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(out: SseMessage[]): void {
    const hasId = this.#hasId;
    const event = this.#event;
    const data = this.#data;
    this.#hasId = false;
    this.#event = '';
    this.#data = [];
    if (data.length === 0) return; // per spec: no data, no message (an id alone still counts)
    out.push({ event: event || 'message', data: data.join('\n'), lastEventId: this.#lastEventId, hasId });
  }
}
