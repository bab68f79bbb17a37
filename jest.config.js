import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Some CommonJS dependencies (light-my-request, @fastify/static) `require()` packages that
 * are ESM-only. Node >= 20.19 allows that, jest's module loader does not (before Node 24.9).
 * These packages are single self-contained files, so we compile a CommonJS copy once and
 * map the bare specifier to it. Production code is untouched: it runs on Node's own loader.
 */
const ESM_ONLY_REQUIRED_FROM_CJS = ['cookie', 'content-disposition'];

function commonJsCopies() {
  const cacheDir = join(root, 'node_modules', '.cache', 'fusion-jest');
  mkdirSync(cacheDir, { recursive: true });
  const mapper = {};
  for (const name of ESM_ONLY_REQUIRED_FROM_CJS) {
    const entry = require.resolve(name);
    const manifestPath = join(root, 'node_modules', name, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const target = join(cacheDir, `${name}@${manifest.version}.cjs`);
    const { code } = transformSync(readFileSync(entry, 'utf8'), {
      filename: entry,
      jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    writeFileSync(target, code);
    mapper[`^${name}$`] = target;
  }
  return mapper;
}

/** Jest runs the TypeScript sources directly (ESM mode, swc transpile; tsc type-checks separately). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    ...commonJsCopies(),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 30000,
};
