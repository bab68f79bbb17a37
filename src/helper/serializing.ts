/** Reads and writes JSON or YAML files (chosen by extension); writes are atomic. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { FusionError } from './errors.js';
import type { FusionErrorCode } from './errors.js';

/** A text format the serializing helper reads and writes. */
export type SerialFormat = 'json' | 'yaml';

/** Error of the serializing helper; names the file and, for syntax errors, the line. */
export class SerializingError extends FusionError {
  /** The file involved, when there is one. */
  readonly file: string | undefined;
  /** 1-based line of a syntax error, when the parser reports one. */
  readonly line: number | undefined;
  /** 1-based column of a syntax error, when the parser reports one. */
  readonly column: number | undefined;

  constructor(
    code: FusionErrorCode,
    message: string,
    details: { file?: string; line?: number; column?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'SerializingError';
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
  }
}

const EXTENSIONS: Record<string, SerialFormat> = { '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' };

/** Returns the format implied by the extension of `path` (.json, .yaml, .yml); throws otherwise. */
export function formatOf(path: string): SerialFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new SerializingError(
      'FUSION_ERR_FILE_FORMAT',
      `${path}: unsupported file extension ${JSON.stringify(extname(path))}; use .json, .yaml or .yml`,
      { file: path },
    );
  }
  return format;
}

/** Parses `text` as JSON or YAML; `source` (a file name) prefixes error messages. */
export function parseText(text: string, format: SerialFormat, source?: string): unknown {
  const where = source ?? `<${format}>`;
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      const offset = jsonErrorOffset(text);
      const { line, column } = offset === undefined ? { line: undefined, column: undefined } : lineColumn(text, offset);
      const reason = (error as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
      const at = line === undefined ? '' : `:${line}:${column}`;
      throw new SerializingError('FUSION_ERR_FILE_PARSE', `${where}${at}: invalid JSON: ${reason}`, {
        file: source,
        line,
        column,
        cause: error,
      });
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const pos = error.linePos?.[0];
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const at = pos === undefined ? '' : `:${pos.line}:${pos.col}`;
    throw new SerializingError('FUSION_ERR_FILE_PARSE', `${where}${at}: invalid YAML: ${reason}`, {
      file: source,
      line: pos?.line,
      column: pos?.col,
      cause: error,
    });
  }
}

/** Serializes a JSON-compatible value (objects with `toJSON` included) as JSON or YAML text. */
export function stringify(value: unknown, format: SerialFormat): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value, null, 2);
  } catch (error) {
    throw new SerializingError('FUSION_ERR_NOT_SERIALIZABLE', `cannot serialize value: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (json === undefined) {
    throw new SerializingError('FUSION_ERR_NOT_SERIALIZABLE', `cannot serialize a value of type ${typeof value}`);
  }
  if (format === 'json') return `${json}\n`;
  return stringifyYaml(JSON.parse(json));
}

/** Reads `path` and parses it as JSON or YAML according to its extension. */
export async function loadFile(path: string): Promise<unknown> {
  const format = formatOf(path);
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    throw ioError(path, 'read', error);
  }
  return parseText(text, format, path);
}

/**
 * Writes `value` to `path` as JSON or YAML according to its extension, atomically: the text
 * goes to a temporary file in the same directory, is flushed to disk, then renamed over
 * `path`. Readers see the old file or the new one, never a partial one.
 */
export async function dumpFile(path: string, value: unknown): Promise<void> {
  const text = stringify(value, formatOf(path));
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode = 0o666;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch {
    // New file: default mode, narrowed by the umask.
  }
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.chmod(mode).catch(() => undefined);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw ioError(path, 'write', error);
  }
  await syncDirectory(dirname(path));
}

/** Flushes a directory entry (the rename) to disk; not every platform allows it. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: Windows and some filesystems refuse fsync on directories.
  }
}

function ioError(path: string, verb: 'read' | 'write', error: unknown): SerializingError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code ?? (error as Error).message;
  return new SerializingError('FUSION_ERR_FILE_IO', `${path}: cannot ${verb} file (${reason})`, {
    file: path,
    cause: error,
  });
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Offset of the first JSON syntax error in `text` (V8's messages do not always give one). */
function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  function fail(): never {
    throw i;
  }
  function ws(): void {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  }
  function literal(word: string): void {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  }
  function string(): void {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  }
  function container(close: '}' | ']'): void {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      if (close === '}') {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
      }
      value();
      ws();
      if (text[i] === close) return void i++;
      if (text[i] !== ',') fail();
      i++;
    }
  }
  function value(): void {
    ws();
    const ch = text[i];
    if (ch === '{') container('}');
    else if (ch === '[') container(']');
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else {
      const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 1000));
      if (match === null) fail();
      i += match[0].length;
    }
  }
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (error) {
    // A number is the offset thrown by fail(); anything else (stack overflow on absurd nesting) has no position.
    return typeof error === 'number' ? error : undefined;
  }
}
