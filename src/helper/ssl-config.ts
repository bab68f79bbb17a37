/** TLS settings from configuration: verify, trust CA files, or pin a certificate fingerprint. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, describeConfigValue } from './config-error.js';

/** TLS settings for undici (`connect` options); with `fingerprint`, the client must pin it. */
export interface SslConfig {
  /** Verify the server certificate chain (false when pinning a fingerprint instead). */
  readonly rejectUnauthorized: boolean;
  /** PEM contents of the CA files to trust, when given. */
  readonly ca?: string[];
  /** Pinned SHA-256 fingerprint, uppercase `AB:CD:...` (the form of `cert.fingerprint256`). */
  readonly fingerprint?: string;
}

const FINGERPRINT = /^sha256:((?:[0-9a-f]{2}:?){32})$/i;
const PEM = /-----BEGIN CERTIFICATE-----/;

/**
 * Reads TLS settings: `true`/absent (verify with system CAs), `false` (do not verify), a CA
 * file path or a list of them (PEM contents are read now), or a pinned certificate
 * fingerprint `sha256:AB:CD:...` (chain not verified; the client compares the fingerprint).
 */
export function loadSslConfig(value: unknown, options: { key?: string; baseDir?: string } = {}): SslConfig {
  const key = options.key ?? 'ssl';
  if (value === undefined || value === null || value === true) return { rejectUnauthorized: true };
  if (value === false) return { rejectUnauthorized: false };
  if (typeof value === 'string' && value.toLowerCase().startsWith('sha256:')) {
    const match = FINGERPRINT.exec(value);
    if (!match) throw new ConfigError(key, `expected sha256: followed by 32 hex bytes, got ${describeConfigValue(value)}`);
    const hex = (match[1] ?? '').replace(/:/g, '').toUpperCase();
    return { rejectUnauthorized: false, fingerprint: hex.replace(/(..)(?!$)/g, '$1:') };
  }
  const paths = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string' || p === '')) {
    const expected = 'true, false, a CA file path, a list of CA file paths or a sha256: fingerprint';
    throw new ConfigError(key, `expected ${expected}, got ${describeConfigValue(value)}`);
  }
  const ca = (paths as string[]).map((path, i) => {
    const itemKey = Array.isArray(value) ? `${key}[${i}]` : key;
    const full = resolve(options.baseDir ?? process.cwd(), path);
    let pem: string;
    try {
      pem = readFileSync(full, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConfigError(itemKey, `cannot read CA file ${full} (${code})`, { cause: error });
    }
    if (!PEM.test(pem)) throw new ConfigError(itemKey, `${full} holds no PEM certificate (BEGIN CERTIFICATE)`);
    return pem;
  });
  return { rejectUnauthorized: true, ca };
}
