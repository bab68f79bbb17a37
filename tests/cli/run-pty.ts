/** Runs shell commands under a pseudo-terminal (util-linux `script`), for the progress-bar tests. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `fusion` from the sources, as a shell word list (for `inPty`). */
export const FUSION_FROM_SOURCES = `'${process.execPath}' --import tsx src/cli/main.ts`;

/** Whether util-linux `script` is here to give a child a pseudo-terminal. */
function hasScript(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('script', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs `command` (a shell line, from the repository root) on a pseudo-terminal; resolves with its exit code and everything it printed. */
export async function inPty(command: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  if (!(await hasScript())) throw new Error('util-linux `script` is needed for the pseudo-terminal test');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, ...env, FUSION_DEBUG: '', FUSION_LOGFILE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
