import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A service author's imports, compiled against the built package types (dist/). */
const CONSUMER = `import { FusionServer, FusionEventAPI } from 'fusion-framework';
import type { FastifyInstance } from 'fusion-framework/server';
import { FusionClient } from 'fusion-framework/client';
import { Case } from 'fusion-framework/concept';
import { FusionError } from 'fusion-framework/helper';
export const used: unknown[] = [FusionServer, FusionEventAPI, FusionClient, Case, FusionError];
export type App = FastifyInstance;
`;

describe('the package types in a consumer', () => {
  it('compile without skipLibCheck (run after npm run build, as CI does)', async () => {
    expect(existsSync(join(root, 'dist', 'index.d.ts')) ? 'built' : 'dist/ is missing: run npm run build first').toBe('built');
    const dir = await mkdtemp(join(tmpdir(), 'fusion-consumer-'));
    try {
      await mkdir(join(dir, 'node_modules'));
      await symlink(root, join(dir, 'node_modules', 'fusion-framework'), 'dir');
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      await writeFile(join(dir, 'main.ts'), CONSUMER);
      const compilerOptions = {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
      const result = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        );
      });
      expect(result).toEqual({ code: 0, output: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
