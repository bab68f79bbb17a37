/** The framework version, read once from package.json (same relative place from src/ and dist/). */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Version of fusion-framework, as in its package.json. */
export const FUSION_VERSION: string = readVersion();
