import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUDIT_BUFFER_BYTES, createAuditLog } from '../../src/helper/audit-log.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const CHILD = join(HERE, 'fixtures', 'audit-child.ts');
const COUNT = 500;

/** Runs the child until it ends; resolves with its exit code and signal. */
function runChild(file: string, how: 'exit' | 'throw' | 'kill'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, String(COUNT), how], { cwd: REPO, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function auditLines(file: string): Promise<{ n: number; operation: string }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { context: { n: number }; operation: string })
    .map((line) => ({ n: line.context.n, operation: line.operation }));
}

describe('createAuditLog', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds lines in its buffer until it is full, and writes them all on close', async () => {
    const file = join(dir, 'close.log');
    const audit = createAuditLog({ file, level: 'info', flushMs: 60_000 });
    audit.logger.info({ operation: 'retrieve_case', context: { n: 0 } }, 'granted');
    expect(await auditLines(file)).toEqual([]);
    for (let n = 1; n < 100; n++) audit.logger.info({ operation: 'retrieve_case', context: { n } }, 'granted');
    const written = await auditLines(file);
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(100);
    audit.close();
    expect((await auditLines(file)).map((line) => line.n)).toEqual([...Array(100).keys()]);
  });

  it('refuses a negative buffer size and a zero flush interval', () => {
    expect(() => createAuditLog({ file: join(dir, 'refused.log'), bufferBytes: -1 })).toThrow('bufferBytes must be an integer >= 0, got -1');
    expect(() => createAuditLog({ file: join(dir, 'refused.log'), flushMs: 0 })).toThrow('flushMs must be a number > 0, got 0');
  });

  it.each(['exit', 'throw'] as const)('loses no decision when the process ends by %s', async (how) => {
    const file = join(dir, `${how}.log`);
    const ended = await runChild(file, how);
    expect(ended.code).toBe(how === 'exit' ? 0 : 1);
    expect((await auditLines(file)).map((line) => line.n)).toEqual([...Array(COUNT).keys()]);
  }, 60_000);

  it('loses at most its buffer when the process is killed without an exit (SIGKILL)', async () => {
    const file = join(dir, 'kill.log');
    expect((await runChild(file, 'kill')).signal).toBe('SIGKILL');
    const lines = await auditLines(file);
    const text = await readFile(file, 'utf8');
    const lineBytes = Buffer.byteLength(text) / lines.length;
    // What is on disk is a prefix of the decisions, in order; the rest fitted in the buffer.
    expect(lines.map((line) => line.n)).toEqual([...Array(lines.length).keys()]);
    expect(lines.length).toBeLessThan(COUNT);
    expect((COUNT - lines.length) * lineBytes).toBeLessThan(AUDIT_BUFFER_BYTES + lineBytes);
  }, 60_000);
});
