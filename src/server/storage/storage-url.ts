/** Parses `storage.url`: which backend, and where its data lives. */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../helper/config.js';

/** A parsed storage URL. */
export type StorageLocation =
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly display: string }
  | { readonly kind: 'pglite'; readonly dir: string; readonly display: string }
  | { readonly kind: 'memory'; readonly display: string };

/** The accepted URL forms, as listed in error messages. */
export const STORAGE_URL_FORMS =
  'postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or postgresql://), pglite://DIR (embedded, data in DIR), memory:// (embedded, in memory)';

/** The configuration key the URL comes from (named in errors). */
const KEY = 'storage.url';

/** Returns `url` with its password replaced by `***` (for logs and error messages). */
export function redactStorageUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@');
}

/**
 * Parses a storage URL. Relative `pglite://` directories resolve against `baseDir`
 * (default: the current directory). Throws ConfigError naming `storage.url` when the URL
 * is not one of the accepted forms.
 */
export function parseStorageUrl(url: string, options: { baseDir?: string } = {}): StorageLocation {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ConfigError(KEY, `missing; use one of ${STORAGE_URL_FORMS}`);
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url.trim());
  const display = redactStorageUrl(url.trim());
  if (!match) {
    throw new ConfigError(KEY, `${JSON.stringify(display)} is not a URL; use one of ${STORAGE_URL_FORMS}`);
  }
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return parsePostgres(url.trim(), rest, display);
    case 'pglite': {
      if (rest === '') {
        throw new ConfigError(KEY, `pglite:// needs a directory (pglite://.data/pglite or pglite:///var/lib/service); use memory:// for an in-memory database`);
      }
      const base = options.baseDir ?? process.cwd();
      const dir = isAbsolute(rest) ? resolve(rest) : resolve(base, rest);
      return { kind: 'pglite', dir, display };
    }
    case 'memory':
      if (rest !== '') {
        throw new ConfigError(KEY, `memory:// takes nothing after the scheme, got ${JSON.stringify(display)}; use pglite://DIR to keep data in a directory`);
      }
      return { kind: 'memory', display };
    default:
      throw new ConfigError(KEY, `unsupported scheme "${scheme}://" in ${JSON.stringify(display)}; use one of ${STORAGE_URL_FORMS}`);
  }
}

function parsePostgres(url: string, rest: string, display: string): StorageLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(KEY, `${JSON.stringify(display)} is not a valid PostgreSQL URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
  }
  if (parsed.hostname === '' && !/[?&]host=/.test(rest)) {
    throw new ConfigError(KEY, `${JSON.stringify(display)} names no host; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
  }
  return { kind: 'postgres', connectionString: url, display };
}
