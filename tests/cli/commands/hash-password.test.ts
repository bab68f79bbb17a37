import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { hashPasswordCommand, readPasswordFromTerminal, runHashPassword } from '../../../src/cli/commands/hash-password.js';
import { verifyPassword } from '../../../src/server/auth/backend/password.js';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

function io(stdinText: string | null) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (stdinText !== null) stdin.end(stdinText);
  return { io: { stdin, stdout, stderr }, stdin, out: collect(stdout), err: collect(stderr) };
}

describe('fusion hash-password', () => {
  it('hashes a piped password (one trailing newline dropped)', async () => {
    const t = io('s3cret pass\n');
    expect(await runHashPassword(t.io)).toBe(0);
    const digest = t.out().trim();
    expect(digest).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=4\$/);
    expect(await verifyPassword(digest, 's3cret pass')).toBe(true);
    expect(await verifyPassword(digest, 's3cret pass\n')).toBe(false);
  });

  it('takes no arguments (a password there would land in shell history)', async () => {
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await hashPasswordCommand.run(['s3cret'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
  });

  it('refuses an empty password with exit code 1', async () => {
    const t = io('\n');
    expect(await runHashPassword(t.io)).toBe(1);
    expect(t.err()).toMatch(/password is empty/);
    expect(t.out()).toBe('');
  });

  it('asks twice on a terminal, echoes nothing, and refuses differing answers', async () => {
    const t = io(null);
    const modes: boolean[] = [];
    const stdin = Object.assign(t.stdin, { isTTY: true, setRawMode: (mode: boolean) => modes.push(mode) });
    const run = runHashPassword({ ...t.io, stdin });
    stdin.write('abc\r');
    await new Promise((resolve) => setImmediate(resolve));
    stdin.write('abd\r');
    expect(await run).toBe(1);
    expect(t.err()).toContain('Password: ');
    expect(t.err()).not.toContain('abc');
    expect(t.err()).toMatch(/differ/);
    expect(modes).toEqual([true, false, true, false]);
  });

  it('handles backspace and Ctrl-C on a terminal', async () => {
    const t = io(null);
    const stdin = Object.assign(t.stdin, { isTTY: true, setRawMode: () => undefined });
    const read = readPasswordFromTerminal({ ...t.io, stdin }, 'P: ');
    stdin.write('abx\u007fc\r');
    expect(await read).toBe('abc');
    const cancelled = readPasswordFromTerminal({ ...t.io, stdin }, 'P: ');
    stdin.write('\u0003');
    await expect(cancelled).rejects.toThrow('cancelled');
  });
});
