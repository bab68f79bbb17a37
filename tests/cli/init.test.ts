// `fusion init DIR`: what it writes. Its tests passing after `npm install` is tests/package/packed-package.test.ts.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runFusion } from './run-fusion.js';

describe('fusion init', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-init-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the service: a Case subclass, an API, an RPC method and a task wired by the service module, a config, a test, a README', async () => {
    const target = join(dir, 'ticket-desk');
    const run = await runFusion(['init', target, '--username', 'ann']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const files = ['package.json', 'config.yaml', 'src/service.js', 'src/ticket-case.js', 'src/hello-api.js', 'src/ticket-rpc.js', 'src/stale-tickets.js', 'test/service.test.js', 'README.md', '.gitignore', '.fusion-password'];
    for (const file of files) expect(run.stdout).toContain(`  ${file}\n`);
    const read = (file: string): Promise<string> => readFile(join(target, file), 'utf8');
    for (const file of files.filter((name) => name.endsWith('.js'))) expect([file, await read(file)]).toEqual([file, expect.not.stringContaining('TODO')]);
    const service = await read('src/service.js');
    expect(service).toContain('tasks: (config) => [closeStaleTickets(');
    expect(service).toContain('registerTicketRpc(rpc, host)');
    expect(await read('src/ticket-rpc.js')).toContain("'ticket.count'");
    expect(await read('src/stale-tickets.js')).toContain("export const CLOSE_STALE_TICKETS = 'close-stale-tickets';");
    const config = await read('config.yaml');
    expect(config).toMatch(/^rpc: \{\}/m);
    expect(config).toMatch(/^tickets:\n {2}stale_after_days: 30/m);
    expect(config).toMatch(/- username: ann\n/);
    const test = await read('test/service.test.js');
    expect(test).toContain("rpc.call('ticket.count'");
    expect(test).toContain('runner.runOnce(CLOSE_STALE_TICKETS)');
    const readme = await read('README.md');
    expect(readme).toContain("npx fusion rpc call ticket.count '{\"priority\": \"high\"}'");
    expect(readme).toContain('npx fusion task close-stale-tickets --config config.yaml --once');
    expect(JSON.parse(await read('package.json'))).toMatchObject({ name: 'ticket-desk', scripts: { test: 'node --test' } });
    expect((await stat(join(target, '.fusion-password'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a directory that holds files (exit 5), writing nothing', async () => {
    const taken = join(dir, 'taken');
    await runFusion(['init', taken]);
    await writeFile(join(taken, 'mine.txt'), 'keep');
    const before = await readFile(join(taken, 'config.yaml'), 'utf8');
    const run = await runFusion(['init', taken]);
    expect(run).toMatchObject({ code: 5, stderr: expect.stringContaining('is not empty') });
    expect(await readFile(join(taken, 'config.yaml'), 'utf8')).toBe(before);
    expect((await runFusion(['init'])).code).toBe(2);
  });
});
