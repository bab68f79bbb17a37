/**
 * Framing of a TCP byte stream into messages, shared by the TCP gateway and FusionTcpClient:
 * `line` (a chosen delimiter), `length-prefixed` (u16 or u32 big-endian) or a custom splitter.
 * Frames are UTF-8 strings (`encoding: 'utf8'`) or Buffers (`encoding: 'binary'`).
 */
import { FusionError } from './errors.js';

/** A message on a framed connection: a string with `encoding: 'utf8'`, a Buffer with `'binary'`. */
export type TcpFrame = string | Buffer;

/** How frames are handed to handlers: UTF-8 text or raw bytes. */
export type FrameEncoding = 'utf8' | 'binary';

/** Finds the next frame at the start of `buffer`: the frame and the bytes it used, or null when incomplete. */
export type FrameSplitter = (buffer: Buffer) => { frame: Buffer; consumed: number } | null;

/** Line framing: frames end with `delimiter` (default `\n`), which is not part of the frame. */
export interface LineFraming {
  type: 'line';
  /** Bytes ending each frame (default `'\n'`); at least one byte. */
  delimiter?: string | Buffer;
  encoding?: FrameEncoding;
}

/** Length-prefixed framing: a big-endian unsigned length of `prefixBytes` (2 or 4, default 4), then the frame. */
export interface LengthPrefixedFraming {
  type: 'length-prefixed';
  prefixBytes?: 2 | 4;
  encoding?: FrameEncoding;
}

/** Custom framing: `split` finds frames in received bytes, `encode` wraps an outgoing frame. */
export interface CustomFraming {
  type: 'custom';
  split: FrameSplitter;
  encode: (frame: Buffer) => Buffer;
  encoding?: FrameEncoding;
}

/** One of the framings a gateway listener or a FusionTcpClient speaks. */
export type FramingOptions = LineFraming | LengthPrefixedFraming | CustomFraming;

/** Why a stream could not be framed: a frame over the limit or bytes the splitter rejects. */
export class FramingError extends FusionError {
  constructor(message: string) {
    super('FUSION_ERR_TCP_FRAMING', message);
    this.name = 'FramingError';
  }
}

/** Turns received chunks into frames and outgoing frames into bytes, for one connection. */
export class FrameCodec {
  readonly #framing: FramingOptions;
  readonly #maxFrameBytes: number;
  readonly #text: boolean;
  readonly #delimiter: Buffer;
  /** The line delimiter as text, when it was given as a string (fast path of `encode`). */
  readonly #delimiterText: string | null;
  readonly #prefixBytes: 2 | 4;
  #pending: Buffer = Buffer.alloc(0);
  /** Line framing: bytes of #pending already searched for the delimiter. */
  #scanned = 0;

  constructor(framing: FramingOptions, maxFrameBytes: number) {
    checkFraming(framing);
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) throw new TypeError(`maxFrameBytes must be an integer > 0, got ${maxFrameBytes}`);
    this.#framing = framing;
    this.#maxFrameBytes = maxFrameBytes;
    this.#text = (framing.encoding ?? 'utf8') === 'utf8';
    this.#delimiter = framing.type === 'line' ? Buffer.from(framing.delimiter ?? '\n') : Buffer.alloc(0);
    this.#delimiterText = framing.type === 'line' && typeof (framing.delimiter ?? '\n') === 'string' ? ((framing.delimiter as string | undefined) ?? '\n') : null;
    this.#prefixBytes = framing.type === 'length-prefixed' ? (framing.prefixBytes ?? 4) : 4;
  }

  /** True when frames are strings (UTF-8), false when Buffers. */
  get text(): boolean {
    return this.#text;
  }

  /** Bytes received and not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** The complete frames `chunk` finishes, in order; throws FramingError on a frame over the limit or bad bytes. */
  push(chunk: Buffer): TcpFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const raw = this.#framing.type === 'line' ? this.#lines() : this.#framing.type === 'length-prefixed' ? this.#prefixed() : this.#custom(this.#framing.split);
    return this.#text ? raw.map((frame) => frame.toString('utf8')) : raw;
  }

  /** The bytes that carry `frame` on the wire; throws FramingError when the framing cannot carry it. */
  encode(frame: TcpFrame): Buffer {
    if (typeof frame === 'string' && this.#delimiterText !== null) return this.#encodeTextLine(frame, this.#delimiterText);
    const body = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    if (body.length > this.#maxFrameBytes) throw new FramingError(`frame of ${body.length} bytes is over max_frame_bytes (${this.#maxFrameBytes})`);
    switch (this.#framing.type) {
      case 'line':
        if (body.includes(this.#delimiter)) throw new FramingError('frame contains the line delimiter');
        return Buffer.concat([body, this.#delimiter]);
      case 'length-prefixed': {
        const header = Buffer.allocUnsafe(this.#prefixBytes);
        if (this.#prefixBytes === 2) {
          if (body.length > 0xffff) throw new FramingError(`frame of ${body.length} bytes does not fit a u16 length prefix`);
          header.writeUInt16BE(body.length);
        } else {
          header.writeUInt32BE(body.length);
        }
        return Buffer.concat([header, body]);
      }
      case 'custom':
        return this.#framing.encode(body);
    }
  }

  /** Line framing of a string frame in one allocation. */
  #encodeTextLine(frame: string, delimiter: string): Buffer {
    if (frame.includes(delimiter)) throw new FramingError('frame contains the line delimiter');
    const bytes = Buffer.from(frame + delimiter, 'utf8');
    const size = bytes.length - this.#delimiter.length;
    if (size > this.#maxFrameBytes) throw new FramingError(`frame of ${size} bytes is over max_frame_bytes (${this.#maxFrameBytes})`);
    return bytes;
  }

  #lines(): Buffer[] {
    const frames: Buffer[] = [];
    const delimiter = this.#delimiter;
    let start = 0;
    let from = Math.max(0, this.#scanned - delimiter.length + 1);
    for (;;) {
      const at = this.#pending.indexOf(delimiter, from);
      if (at < 0) break;
      this.#checkSize(at - start);
      frames.push(this.#pending.subarray(start, at));
      start = at + delimiter.length;
      from = start;
    }
    this.#keepFrom(start);
    this.#scanned = this.#pending.length;
    this.#checkSize(this.#pending.length - (delimiter.length - 1));
    return frames;
  }

  #prefixed(): Buffer[] {
    const frames: Buffer[] = [];
    const width = this.#prefixBytes;
    let start = 0;
    while (this.#pending.length - start >= width) {
      const length = width === 2 ? this.#pending.readUInt16BE(start) : this.#pending.readUInt32BE(start);
      this.#checkSize(length);
      if (this.#pending.length - start - width < length) break;
      frames.push(this.#pending.subarray(start + width, start + width + length));
      start += width + length;
    }
    this.#keepFrom(start);
    return frames;
  }

  #custom(split: FrameSplitter): Buffer[] {
    const frames: Buffer[] = [];
    let start = 0;
    while (start < this.#pending.length) {
      const rest = this.#pending.subarray(start);
      const found = split(rest);
      if (found === null) break;
      if (!Number.isInteger(found.consumed) || found.consumed < 1 || found.consumed > rest.length) {
        throw new FramingError(`custom splitter consumed ${found.consumed} of ${rest.length} bytes`);
      }
      this.#checkSize(found.frame.length);
      frames.push(found.frame);
      start += found.consumed;
    }
    this.#keepFrom(start);
    this.#checkSize(this.#pending.length);
    return frames;
  }

  /** Keeps the unframed tail; copies it so a retained frame never pins a large chunk. */
  #keepFrom(start: number): void {
    if (start === 0) return;
    this.#pending = start >= this.#pending.length ? Buffer.alloc(0) : Buffer.from(this.#pending.subarray(start));
    this.#scanned = 0;
  }

  #checkSize(bytes: number): void {
    if (bytes > this.#maxFrameBytes) throw new FramingError(`frame over max_frame_bytes (${bytes} > ${this.#maxFrameBytes} bytes)`);
  }
}

/** Throws a TypeError naming the bad option of `framing`. */
export function checkFraming(framing: FramingOptions): void {
  const encoding = framing.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'binary') throw new TypeError(`framing.encoding must be 'utf8' or 'binary', got ${String(encoding)}`);
  switch (framing.type) {
    case 'line':
      if (framing.delimiter !== undefined && Buffer.from(framing.delimiter).length === 0) throw new TypeError('framing.delimiter must be at least one byte');
      return;
    case 'length-prefixed':
      if (framing.prefixBytes !== undefined && framing.prefixBytes !== 2 && framing.prefixBytes !== 4) {
        throw new TypeError(`framing.prefixBytes must be 2 or 4, got ${String(framing.prefixBytes)}`);
      }
      return;
    case 'custom':
      if (typeof framing.split !== 'function' || typeof framing.encode !== 'function') throw new TypeError('custom framing needs split and encode functions');
      return;
    default:
      throw new TypeError(`framing.type must be 'line', 'length-prefixed' or 'custom', got ${String((framing as { type: unknown }).type)}`);
  }
}
